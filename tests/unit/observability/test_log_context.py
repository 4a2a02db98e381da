"""Request context in log lines under concurrency: each line carries its own request's keys."""
import json
import threading
import time
from types import SimpleNamespace

from chalice.app import Response

from chalicelib.observability.logging import get_logger
from chalicelib.observability.middleware import http_middleware

THREADS, REQUESTS_PER_THREAD = 16, 25


def fake_request(index):
    return SimpleNamespace(headers={"x-correlation-id": f"request-{index}"}, method="GET", raw_body=b"",
                           query_params=None, context={"resourcePath": f"/route/{index}"},
                           to_original_event=lambda: {})


def view_that_logs_twice(request):
    logger = get_logger()
    logger.info("view started", extra={"sent_route": request.context["resourcePath"]})
    time.sleep(0.001)  # let the other requests run in between
    logger.warning("view finished", extra={"sent_route": request.context["resourcePath"]})
    return Response(body={"ok": True}, status_code=200)


def test_concurrent_requests_never_log_each_others_correlation_id_or_route(capsys):
    start = threading.Barrier(THREADS)

    def client(thread_index):
        start.wait()
        for number in range(REQUESTS_PER_THREAD):
            http_middleware(fake_request(thread_index * 1000 + number), view_that_logs_twice)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{") and '"sent_route"' in line]
    assert len(lines) == 2 * THREADS * REQUESTS_PER_THREAD
    mixed_up = [line for line in lines if line.get("route") != line["sent_route"]
                or line.get("correlation_id") != "request-" + line["sent_route"].rsplit("/", 1)[1]]
    assert mixed_up == []


def test_a_line_logged_after_the_request_carries_none_of_its_keys(capsys):
    http_middleware(fake_request(7), view_that_logs_twice)
    get_logger().info("between requests")
    line = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "between requests" in line][0]
    assert "correlation_id" not in line and "route" not in line
