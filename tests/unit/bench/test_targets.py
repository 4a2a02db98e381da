"""A benchmark's server process leaves its logs behind only when something failed."""
from bench._targets import Target


def target(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "service.log").write_text("one record per request\n")
    return Target("server", ["true"], "http://127.0.0.1:9", "/", log_dir=log_dir)


def test_a_target_that_ran_without_failure_removes_its_logs(tmp_path):
    server = target(tmp_path)
    server.__exit__(None, None, None)
    assert not server.log_dir.exists()


def test_a_target_left_by_a_failure_keeps_its_logs(tmp_path):
    server = target(tmp_path)
    failure = RuntimeError("the benchmark failed")
    server.__exit__(type(failure), failure, None)
    assert (server.log_dir / "service.log").exists()
