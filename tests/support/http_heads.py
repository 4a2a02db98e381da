"""Raw requests at the HTTP server's limits (chalicelib/http/limits.py), for both servers' tests."""
from __future__ import annotations

from chalicelib.http.limits import MAX_HEADER_FIELD_BYTES

# A chunked body each server refuses 400 at once (the client's side then closed): its size line is
# malformed, a chunk is not the size it announced, or its CRLF is missing.
MALFORMED_CHUNKED_BODIES = [b"zz\r\n{}\r\n0\r\n\r\n", b"10\r\n{}\r\n0\r\n\r\n", b"-2\r\n{}\r\n0\r\n\r\n",
                            b"2 \r\n{}\r\n0\r\n\r\n", b"2\n{}\r\n0\r\n\r\n", b"2\r\n{}\n0\r\n\r\n",
                            b"2;\x00\r\n{}\r\n0\r\n\r\n", b"2;a=\"b\r\n{}\r\n0\r\n\r\n", b"2\r\n{}0\r\n\r\n"]

# Transfer-Encoding values each server refuses 400: neither decodes a coding but chunked, nor takes
# chunked twice (gunicorn alone handed a "gzip, chunked" body on undecoded, and answered "foo" 501).
UNSUPPORTED_TRANSFER_CODINGS = [b"gzip, chunked", b"deflate, chunked", b"compress, chunked", b"identity, chunked",
                                b"foo, chunked", b"chunked, chunked", b"gzip"]

# RFC 9110 5.5: a header value holds visible characters, spaces, tabs and obs-text (0x80-0xff), and
# each server refuses 400 one holding another control (the gateway took all but CR, LF and NUL).
CONTROLS_REFUSED_IN_HEADER_VALUES = [b"\x01", b"\x08", b"\x0b", b"\x1b", b"\x1f", b"\x7f"]
TAKEN_IN_HEADER_VALUES = [b"\t", b"\x80", b"\xff"]


def head_of(size: int, request_line: bytes = b"GET /ping HTTP/1.1") -> bytes:
    """A request head of ``size`` bytes (request line, header lines, the empty line; CRLFs included)
    whose every line is within its own limit: a Host and two headers share what is left."""
    start = request_line + b"\r\nHost: x\r\n"
    filler = size - len(start) - 2
    first = filler // 2
    lines = [b"X-A: " + b"a" * (first - 7), b"X-B: " + b"b" * (filler - first - 7)]  # 7: "X-?: " and CRLF
    assert all(len(line) + 2 <= MAX_HEADER_FIELD_BYTES for line in lines), "a head this large needs more lines"
    head = start + b"".join(line + b"\r\n" for line in lines) + b"\r\n"
    assert len(head) == size
    return head
