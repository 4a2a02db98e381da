"""What the HTTP server takes before the app sees a request, one setting for both variants: the
local gateway (devstack/gateway.py) and the container's gunicorn (container/gunicorn_conf.py,
container/worker.py) refuse the same requests with the same statuses, in JSON."""

# The request line without its CRLF; a longer one is a 414. gunicorn's ceiling (larger settings are
# capped to it), and near API Gateway's own (10 KiB for the request line and headers together).
MAX_REQUEST_LINE_BYTES = 8190
# One header line with its CRLF, as gunicorn counts limit_request_field_size; a longer one is a 431.
MAX_HEADER_FIELD_BYTES = 8190
# Header lines in one request (trailers of a chunked body count on their own); more is a 431.
MAX_HEADER_FIELDS = 100
# A request's headers must arrive within this long of its request line (a client sends them in one
# go), else 408: the ECS variant serves each request on one of a few threads, which a client sending
# half a head and stalling would otherwise hold (Apache's mod_reqtimeout gives headers 20 s at most).
HEAD_TIMEOUT_SECONDS = 10
# A body that stops arriving for this long is answered 408 and its connection closed, and a
# kept-alive connection idle this long is closed (a load balancer's idle timeout, ALB's default).
READ_TIMEOUT_SECONDS = 60
