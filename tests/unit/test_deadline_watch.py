import logging
import os
import threading

from chalicelib import deadline_watch
from chalicelib.deadline_watch import DeadlineWatch

WAIT = 10.0  # the upper bound of a wait that should end at once: a hang, not the machine's speed


def test_an_expiry_runs_once_its_deadline_passes():
    ran = threading.Event()
    DeadlineWatch().expire_in(0.01, ran.set)
    assert ran.wait(WAIT)


def test_a_cancelled_deadline_never_runs_and_is_no_longer_pending():
    watch, ran, later = DeadlineWatch(), threading.Event(), threading.Event()
    deadline = watch.expire_in(0.05, ran.set)
    watch.cancel(deadline)
    watch.expire_in(0.1, later.set)
    assert later.wait(WAIT)
    assert not ran.is_set()
    assert watch.pending() == 0


def test_deadlines_run_in_the_order_they_fall_due_whatever_the_order_they_were_set():
    watch, order, done = DeadlineWatch(), [], threading.Event()
    watch.expire_in(0.3, lambda: (order.append("late"), done.set()))
    watch.expire_in(0.1, lambda: order.append("early"))
    assert done.wait(WAIT)
    assert order == ["early", "late"]


def test_an_earlier_deadline_set_while_the_watch_sleeps_wakes_it():
    watch, ran = DeadlineWatch(), threading.Event()
    watch.expire_in(3600, lambda: None)
    watch.expire_in(0.01, ran.set)
    assert ran.wait(WAIT)


def test_every_deadline_of_a_process_shares_one_thread():
    watch = DeadlineWatch()
    before = threading.active_count()
    deadlines = [watch.expire_in(60, lambda: None) for _ in range(50)]
    assert threading.active_count() == before + 1
    for deadline in deadlines:
        watch.cancel(deadline)
    assert watch.pending() == 0


def test_a_failing_expiry_is_logged_and_the_watch_runs_the_next(caplog):
    watch, ran = DeadlineWatch(), threading.Event()

    def fail() -> None:
        raise OSError("bad file descriptor")

    with caplog.at_level(logging.WARNING, logger="chalicelib.deadline_watch"):
        watch.expire_in(0.01, fail)
        watch.expire_in(0.05, ran.set)
        assert ran.wait(WAIT)
    assert "expiry failed" in caplog.text and "bad file descriptor" in caplog.text


def test_a_forked_child_gets_a_watch_of_its_own():
    parent_watch = deadline_watch.watch()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether its watch is new, and that it runs
        ran = threading.Event()
        child_watch = deadline_watch.watch()
        child_watch.expire_in(0.01, ran.set)
        os.write(write_end, b"new" if child_watch is not parent_watch and ran.wait(WAIT) else b"old")
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 8) == b"new" and status == 0
    os.close(read_end)
