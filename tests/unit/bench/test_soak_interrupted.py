"""Ctrl-C during `make bench-soak` stops the stack, says so, and leaves no load running."""
import contextlib
import threading
from types import SimpleNamespace

from bench import _soak


def test_ctrl_c_during_the_load_stops_the_stack_and_does_not_wait_for_the_load(capsys, monkeypatch):
    stack = {"stopped": False}
    release_load = threading.Event()

    @contextlib.contextmanager
    def fake_stack(**kwargs):
        try:
            yield SimpleNamespace(base_url="http://127.0.0.1:9")
        finally:
            stack["stopped"] = True

    samples = iter([{"evaluator_s": 0.1}])

    def sample(target, elapsed):
        try:
            return next(samples)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(_soak, "local_stack", fake_stack)
    monkeypatch.setattr(_soak, "sample", sample)
    monkeypatch.setattr(_soak, "run_load", lambda *args, **kwargs: release_load.wait(30) and {})
    monkeypatch.setattr(_soak.time, "sleep", lambda seconds: None)
    try:
        assert _soak.main(["--duration", "200s", "--warmup", "100s", "--samples", "0"]) == 130
        assert stack["stopped"]
        assert "interrupted; the local stack is stopped" in capsys.readouterr().err
        assert all(thread.daemon for thread in threading.enumerate() if thread.name == "soak-load")
    finally:
        release_load.set()
