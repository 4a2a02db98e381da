"""When a request read by the worker's poller can go to a thread (container/worker.py).

gunicorn's threaded worker hands a connection to a thread as soon as it has bytes to read, and the
thread then waits on the client for the rest of the request: clients that send a head a byte at a
time held every thread of the ECS variant (20 such clients delayed other requests by 8.5 s).
API Gateway takes a whole request before the function runs; likewise the worker reads a request
in its poller (no thread) until it is whole. Written by hand: gunicorn
parses requests only with blocking reads in a thread, and has no setting for it.
"""
from __future__ import annotations

from chalicelib.http import limits

# Bodies up to this size are read by the poller; a larger one goes to a thread once the head is in
# (read there within the body deadline, or refused: the API takes far smaller bodies).
MAX_PREFETCH_BODY_BYTES = 64 * 1024


def head_end(data: bytes) -> int:
    """Where the head (request line and headers) ends in ``data``, its blank line included; -1 if not yet."""
    end = data.find(b"\r\n\r\n")
    bare = data.find(b"\n\n")  # malformed line endings: the thread's parser refuses them, no waiting
    ends = [position + length for position, length in ((end, 4), (bare, 2)) if position >= 0]
    return min(ends) if ends else -1


def ready_for_a_thread(data: bytes) -> bool:
    """Whether a thread can take the request that ``data`` begins without waiting on its client: its
    head and its body are in, or what is in already decides its answer (a refusal, an
    ``Expect: 100-continue`` answered before the body comes, a chunked or large body read there)."""
    end = head_end(data)
    if end < 0:  # refused as too large without the rest: the head, its request line or a header line
        lines = data.split(b"\n")
        return (len(data) >= limits.MAX_HEAD_BYTES or len(lines[0]) > limits.MAX_REQUEST_LINE_BYTES
                or any(len(line) > limits.MAX_HEADER_FIELD_BYTES for line in lines[1:]))
    lengths, other_framing = [], False
    for line in data[:end].split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            lengths.append(value.strip())
        elif name in (b"transfer-encoding", b"expect"):
            other_framing = True
    if other_framing or len(lengths) > 1:
        return True
    if not lengths:
        return True  # no body
    length = lengths[0]
    if not length.isdigit() or len(length) > 18 or int(length) > MAX_PREFETCH_BODY_BYTES:
        return True
    return len(data) - end >= int(length)


def waiting_for(data: bytes) -> str:
    """What a request that is not ready still lacks: ``head`` or ``body``."""
    return "head" if head_end(data) < 0 else "body"
