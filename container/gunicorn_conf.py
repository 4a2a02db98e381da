"""gunicorn settings of the container, every one from the environment.

WEB_CONCURRENCY  worker processes (default: 2 per CPU)
WEB_THREADS      threads per worker (default 8; each request holds one thread and at most one
                 PostgreSQL connection, so DB_POOL_MAX_SIZE defaults to the same number)
PORT             listening port (default 8080), on HOST (default 0.0.0.0)
STOP_WITH_PARENT the local stack's pid (devstack/ecs.py sets it; no task does): once the server's parent
                 is no longer that process, the server stops as on SIGTERM, so a stack killed with
                 SIGKILL leaves no server holding its port
WEB_TIMEOUT      seconds a worker may spend on one request before it is restarted (default 30)
WEB_KEEPALIVE    seconds an idle keep-alive connection is kept (default 65: above the ALB's 60 s idle
                 timeout, so the load balancer closes first and never sends on a closed connection)
"""
import multiprocessing
import os
import signal
import threading
import time

from chalicelib.http import limits


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# Why nosec B104: a task listens on its own network interface, which the load balancer reaches.
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8080)}"  # nosec B104
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count())
# gthread, with gunicorn's own error answers in JSON (container/worker.py).
worker_class = "container.worker.JsonErrorThreadWorker"
threads = _int("WEB_THREADS", 8)
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 20)
keepalive = _int("WEB_KEEPALIVE", 65)
# The app writes its own JSON logs and one EMF record per request to stdout (the awslogs
# driver ships them; CloudWatch turns EMF into metrics). gunicorn's access log would repeat them.
accesslog = None
errorlog = "-"
# Its warnings quote a malformed request as sent: addresses in it are redacted (container/error_log.py).
logger_class = "container.error_log.RedactingLogger"
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
# Each worker builds its clients and its PostgreSQL pool after the fork, on first use.
preload_app = False
# The request line and header limits the local gateway enforces too (chalicelib/http/limits.py):
# a longer request line is a 414, a longer header line or more header lines a 431. The limit on the
# whole head is the worker's (container/worker.py), which hooks gunicorn's Python parser: the C one
# (gunicorn_h1c, taken when installed) would skip it.
limit_request_line = limits.MAX_REQUEST_LINE_BYTES
limit_request_field_size = limits.MAX_HEADER_FIELD_BYTES
limit_request_fields = limits.MAX_HEADER_FIELDS
http_parser = "python"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# Why nosec B108: gunicorn's worker heartbeat files, in memory as its documentation advises; no data.
SHARED_MEMORY = "/dev/shm"  # nosec B108
worker_tmp_dir = os.environ.get("WEB_WORKER_TMP_DIR", SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None)


def when_ready(server):  # noqa: ANN001 - gunicorn's hook signature
    parent = _int("STOP_WITH_PARENT", 0)
    if parent:
        threading.Thread(target=_stop_when_orphaned, args=(parent,), name="stop-with-parent", daemon=True).start()


def _stop_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # the arbiter's own graceful stop: in-flight requests finish


def worker_exit(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    """Close the worker's PostgreSQL pool, so the server sees clean disconnects."""
    from chalicelib import wiring

    wiring.current().close()


def post_fork(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    """Each worker starts its heap freezer and its background work (the relay of stored webhook
    events). On the local stack only (devstack's e2e runs set AWS_CALL_LOG; no deployed task has it,
    and the image ships no devstack/), it first records its AWS calls as the task role's, before its
    app loads."""
    if os.environ.get("AWS_CALL_LOG"):
        from devstack.aws_calls import ECS_TASK, install_from_environment

        install_from_environment(process_function=ECS_TASK)
    from chalicelib import wiring
    from chalicelib.heap import HeapFreezer

    HeapFreezer().start()  # the worker's life: a daemon thread, ended with it
    wiring.current().start_background_work()
