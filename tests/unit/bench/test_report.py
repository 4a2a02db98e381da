"""The report table of `make report`: each recorded figure becomes a row with its verdict."""
import pytest

import bench._report as report
from bench._figures import read, record
from bench._report import rows

BENCH = [
    {"benchmark": "middleware", "ratio": 1.05, "added_us": 20.0, "met": True},
    {"benchmark": "cold_start", "ratio": 1.7, "import_ms": 340.0, "bare_ms": 200.0, "met": False},
    {"benchmark": "user_api_load", "workload": "crud-mix",
     "rps": {"memory": 400.0, "stack": 220.0, "flask": 150.0, "ecs": 300.0},
     "p95_ms": {"memory": 30.0, "stack": 60.0, "flask": 90.0, "ecs": 40.0},
     "stack_to_ceiling": 0.55, "stack_to_peer": 1.47, "ecs_to_ceiling": 0.75, "ecs_to_peer": 2.0},
]
RELIABILITY = [{"variant": "lambda", "fault": "dynamodb-failing", "requests": 100, "statuses": {"201": 60, "503": 40},
                "integrity": {"ok": True, "checked_present": 50, "stored_as_sent": 50, "checked_gone": 10,
                                              "gone": 10, "checked_conflicts": 30},
                "slo_bad_events": {"success": 40, "latency": 2}}]
DETECTION = [{"first_page_s": 50.2, "first_slo_page_s": 95.0, "budget_s": 180}]


def test_every_figure_is_a_row_with_its_verdict():
    table = {row[1]: row for row in rows(BENCH, RELIABILITY, DETECTION)}
    assert "met" in table["middleware (GET /health/live in-process)"][4]
    assert "NOT met" in table["cold-start imports vs bare Chalice + boto3"][4]
    assert table["crud-mix: stack / in-memory, stack / peer"][2] == "0.55x, 1.47x"
    assert "met" in table["crud-mix: ECS / in-memory, ECS / peer"][4]
    assert table["users table deleted under load: first SLO page"][2].startswith("95 s")
    assert "40 5xx/unanswered" in table["lambda: dynamodb-failing"][2]


def test_figures_go_to_the_named_file_only(tmp_path, monkeypatch):
    record("middleware", ratio=1.0)  # no file named: nothing written, nothing fails
    monkeypatch.setenv("BENCH_FIGURES", str(tmp_path / "figures.jsonl"))
    record("middleware", ratio=1.1)
    assert read(str(tmp_path / "figures.jsonl")) == [{"benchmark": "middleware", "ratio": 1.1}]


def test_the_markdown_table_has_plain_verdicts():
    from bench._report import markdown

    text = markdown(("", "measure", "figure", "target", "verdict"), rows(BENCH, [], []))
    assert text.splitlines()[1] == "|---|---|---|---|---|"
    assert "| overhead | middleware (GET /health/live in-process) | 1.05x, +20 us/request | <= 1.15x or < 100 us | met |" in text
    assert "[green]" not in text


def test_an_option_is_refused_instead_of_starting_the_report(capsys):
    with pytest.raises(SystemExit) as exited:
        report.main(["--quick"])
    assert exited.value.code == 2 and "unrecognized arguments: --quick" in capsys.readouterr().err


def test_ctrl_c_during_a_stage_says_the_report_was_interrupted(capsys, monkeypatch, tmp_path):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    monkeypatch.setattr(report, "_stage", interrupted)
    assert report.main([]) == 130
    assert "report: interrupted; no table" in capsys.readouterr().err
