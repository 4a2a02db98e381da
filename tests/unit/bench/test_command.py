"""`make bench` and each `python -m bench.<name>`: options refused before anything runs, Ctrl-C said plainly."""
import subprocess

import pytest

from bench.__main__ import main as bench_main
from bench._command import run_benchmark


def test_help_describes_make_bench_and_runs_no_benchmark(capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: pytest.fail("a benchmark ran"))
    with pytest.raises(SystemExit) as exited:
        bench_main(["--help"])
    assert exited.value.code == 0 and "every benchmark in this folder" in capsys.readouterr().out


def test_ctrl_c_during_make_bench_exits_130_saying_so(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "run", interrupted)
    assert bench_main([]) == 130
    assert "bench: interrupted; no figures" in capsys.readouterr().err


@pytest.mark.parametrize("count", ["abc", "-5", "0", "--help-me"])
def test_a_benchmarks_count_that_is_not_a_positive_number_is_refused_before_it_runs(capsys, count):
    with pytest.raises(SystemExit) as exited:
        run_benchmark("bench.example", "Example.", lambda argv: pytest.fail("it ran"), count="requests",
                      argv=[count])
    assert exited.value.code == 2 and "python -m bench.example: error" in capsys.readouterr().err
