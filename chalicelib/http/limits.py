"""What the HTTP server takes before the app sees a request, one setting for both variants: the
local gateway (devstack/gateway.py) and the container's gunicorn (container/gunicorn_conf.py,
container/worker.py) refuse the same requests with the same statuses, in JSON."""
from __future__ import annotations

# The request line without its CRLF; a longer one is a 414. gunicorn's ceiling (larger settings are
# capped to it).
MAX_REQUEST_LINE_BYTES = 8190
# One header line with its CRLF, as gunicorn counts limit_request_field_size; a longer one is a 431.
MAX_HEADER_FIELD_BYTES = 8190
# Header lines in one request (trailers of a chunked body count on their own); more is a 431.
MAX_HEADER_FIELDS = 100
# The whole head: the request line, the header lines and the empty line ending them, CRLFs included;
# a larger one is a 431. API Gateway's own quota for a REST API ("Total combined size of request
# line and header values": 10240 bytes, in "Amazon API Gateway quotas" of its developer guide):
# the per-line limits alone let one request carry 100 lines of 8 KiB, some 800 KB.
MAX_HEAD_BYTES = 10240
# A request's headers must arrive within this long of its request line (a client sends them in one
# go), else 408: the ECS variant serves each request on one of a few threads, which a client sending
# half a head and stalling would otherwise hold (Apache's mod_reqtimeout gives headers 20 s at most).
# The local gateway, a thread per connection, also closes a new connection that sends no byte of a
# request within it (the ECS variant keeps such a connection in its poller, not on a thread).
HEAD_TIMEOUT_SECONDS = 10
# A body that stops arriving for this long is answered 408 and its connection closed, and a
# kept-alive connection idle this long is closed (a load balancer's idle timeout, ALB's default).
READ_TIMEOUT_SECONDS = 60
# The ECS variant also wants a request's whole body within this long of its headers, else 408: a body
# trickling a byte a minute held one of its few threads indefinitely (16 such clients stalled both
# workers for a minute). Bodies are at most MAX_BODY_BYTES (16 KiB by default); mod_reqtimeout's
# default gives a body 20 s, extended at 500 bytes/s.
BODY_TIMEOUT_SECONDS = 10

HEAD_TOO_LARGE = f"Request line and headers are over {MAX_HEAD_BYTES} bytes together"
HOST_MISSING = "Host header is missing; HTTP/1.1 requires one"  # RFC 9112 3.2: a 400


def unsupported_transfer_coding(codings: list[str]) -> str | None:
    """Why a request's Transfer-Encoding values are refused, or None for the one coding taken: chunked.
    Neither server decodes gzip, deflate or compress: a body in one would be handed on as it came."""
    coding = ",".join(codings).strip().lower()
    if not codings or coding == "chunked":
        return None
    return f"Transfer-Encoding {coding!r} is not supported; send the body chunked or with a Content-Length"


def refusal(status: int, reason: str, error: str) -> bytes:
    """The whole answer a server writes itself, outside the app: JSON ``{"error": ...}``, the app's
    security headers and a correlation id, and the connection closed after it."""
    # Imported here: gunicorn's master reads the limits, and needs nothing of the app.
    from chalicelib.http.strict import dumps
    from chalicelib.observability.middleware import server_answer_headers

    body = dumps({"error": error}).encode()
    headers = {**server_answer_headers(), "Connection": "close", "Content-Type": "application/json",
               "Content-Length": str(len(body))}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + "\r\n").encode("latin-1") + body
