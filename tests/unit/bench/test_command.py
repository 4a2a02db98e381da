"""`make bench` and each `python -m bench.<name>`: options refused before anything runs, Ctrl-C said plainly."""
import subprocess

import pytest

from bench.__main__ import main as bench_main
from bench._command import run_benchmark


def test_help_describes_make_bench_and_runs_no_benchmark(capsys, monkeypatch):
    monkeypatch.setattr("bench.__main__.run_to_the_end", lambda *args, **kwargs: pytest.fail("a benchmark ran"))
    with pytest.raises(SystemExit) as exited:
        bench_main(["--help"])
    assert exited.value.code == 0 and "every benchmark in this folder" in capsys.readouterr().out


def test_ctrl_c_during_make_bench_exits_130_saying_so(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("bench.__main__.run_to_the_end", interrupted)
    assert bench_main([]) == 130
    assert "bench: interrupted; no figures" in capsys.readouterr().err


@pytest.mark.parametrize("count", ["abc", "-5", "0", "--help-me"])
def test_a_benchmarks_count_that_is_not_a_positive_number_is_refused_before_it_runs(capsys, count):
    with pytest.raises(SystemExit) as exited:
        run_benchmark("bench.example", "Example.", lambda argv: pytest.fail("it ran"), count="requests",
                      argv=[count])
    assert exited.value.code == 2 and "python -m bench.example: error" in capsys.readouterr().err


def test_a_sigterm_reaches_the_running_benchmark_as_ctrl_c_and_is_waited_for(tmp_path):
    """`make bench` (and `make report`) ended with SIGTERM left the benchmark running, and its stack."""
    import signal
    import sys
    from pathlib import Path

    stopped = tmp_path / "stopped"
    child = ("import sys, time\n"
             "try:\n    print('ready', flush=True); time.sleep(60)\n"
             f"except KeyboardInterrupt:\n    time.sleep(0.5); open({str(stopped)!r}, 'w').close(); sys.exit(130)\n")
    parent = ("import sys\nfrom bench._command import run_to_the_end\n"
              f"sys.exit(run_to_the_end([sys.executable, '-c', {child!r}]))\n")
    root = Path(__file__).resolve().parents[3]
    orchestrator = subprocess.Popen([sys.executable, "-c", parent], cwd=root, stdout=subprocess.PIPE, text=True)
    assert orchestrator.stdout.readline().strip() == "ready"
    orchestrator.send_signal(signal.SIGTERM)
    assert orchestrator.wait(timeout=30) == 128 + signal.SIGTERM
    assert stopped.exists()  # the child finished stopping before the orchestrator ended
