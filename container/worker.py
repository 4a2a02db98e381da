"""gunicorn's threaded worker, answering what gunicorn itself refuses in JSON, as the gateway does,
and answering 408 to a request that stops arriving, as the gateway does.

gunicorn writes its own error answers (414 request line too long, 431 headers too large, 400 for
a malformed request) as HTML pages through ``gunicorn.util.write_error`` and offers no setting to
change their format; the API's contract is a JSON ``{"error": ...}`` for every 4xx. So this
worker replaces that one function in its own process, keeping gunicorn's status codes.

gunicorn limits each header line and their number, not the head as a whole: its parser here also
refuses a request line and headers over limits.MAX_HEAD_BYTES together (431), as API Gateway does.

gunicorn's threaded worker reads a request's head and body with blocking reads and no timeout once
its first bytes have arrived: a client that sends half a request and stalls holds a thread forever
(20 such clients stalled the whole server: 2 workers of 8 threads). gunicorn has no setting for it,
so this worker's request parser reads with the gateway's timeouts (chalicelib/http/limits.py): the
headers within HEAD_TIMEOUT_SECONDS, each part of a body within READ_TIMEOUT_SECONDS, and the whole
body within BODY_TIMEOUT_SECONDS of the headers (a body trickling in holds a thread as long as it lasts).

And gunicorn hands every new connection to a thread, which waits up to 5 s for its first bytes: a
burst of clients that connect and send nothing held every thread (1500 of them stalled the server
for minutes). Here a new connection waits in the worker's poller, as gunicorn's own deferred ones do,
and so does a request that has begun to arrive, until it is whole (container/prefetch.py): the
poller answers 408 itself to one that is not whole in time.
"""
from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial
from typing import Any, Iterator, Optional

import gunicorn.http
from gunicorn import util
from gunicorn.http.body import Body, ChunkedReader
from gunicorn.http.errors import ChunkMissingTerminator, InvalidHeader, LimitRequestHeaders, NoMoreData
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker, TConn

from chalicelib.http import limits
from container.prefetch import MAX_PREFETCH_BODY_BYTES, ready_for_a_thread, waiting_for

HEAD_TIMEOUT_SECONDS: float = limits.HEAD_TIMEOUT_SECONDS
READ_TIMEOUT_SECONDS: float = limits.READ_TIMEOUT_SECONDS
BODY_TIMEOUT_SECONDS: float = limits.BODY_TIMEOUT_SECONDS


def head_not_received() -> str:
    return f"Request headers not received within {HEAD_TIMEOUT_SECONDS:g} s"


def body_not_received() -> str:
    return f"Request body not received within {BODY_TIMEOUT_SECONDS:g} s of its headers"


class RequestReadTimeout(Exception):
    """The request stopped arriving (no OSError: gunicorn logs those as socket faults with a
    traceback and closes without an answer)."""


class TimedSocketUnreader(SocketUnreader):
    """gunicorn's socket reader, giving up on a read after READ_TIMEOUT_SECONDS, or when the
    request's headers are not in by ``head_deadline``, or its body by ``body_deadline``."""

    head_deadline: Optional[float] = None
    body_deadline: Optional[float] = None

    def chunk(self, size_hint: Any = None) -> bytes:
        previous = self.sock.gettimeout()  # keep a shorter one gunicorn set itself (draining a body)
        timeout, what = READ_TIMEOUT_SECONDS, f"Request body not received within {READ_TIMEOUT_SECONDS:g} s"
        if self.head_deadline is not None:
            timeout, what = self.head_deadline - time.monotonic(), head_not_received()
        elif self.body_deadline is not None:
            left = self.body_deadline - time.monotonic()
            if left < timeout:
                timeout, what = left, body_not_received()
        if timeout <= 0:
            raise RequestReadTimeout(what)
        self.sock.settimeout(timeout if previous is None else min(previous, timeout))
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            if previous is not None:  # gunicorn's own deadline: its timeout, as it expects
                raise
            raise RequestReadTimeout(what) from None
        finally:
            self.sock.settimeout(previous)


class ChunkedBodyCutShort(ChunkMissingTerminator):
    """A chunked body that ends (its client closed its side) within a chunk or a chunk's size line.
    gunicorn answers other malformed chunks 400, but closes this one without an answer (it takes its
    NoMoreData for a client gone), where the local gateway answers 400; as a ChunkMissingTerminator
    gunicorn answers it 400 too."""

    def __init__(self) -> None:
        super().__init__(b"")

    def __str__(self) -> str:
        return "Chunked body is malformed: it ends before the size its chunk announced"


class TransferCodingRefused(InvalidHeader):
    """A Transfer-Encoding other than chunked alone: gunicorn takes gzip, deflate or compress before
    chunked and hands the body on undecoded (plain JSON sent as "gzip, chunked" was served as sent),
    and answers an unknown coding 501, a 5xx for the client's error. Refused 400, as the gateway does."""

    def __init__(self, reason: str) -> None:
        super().__init__("TRANSFER-ENCODING")
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class CompleteChunkedReader(ChunkedReader):
    def parse_chunked(self, unreader: Any) -> Iterator[bytes]:
        try:
            yield from super().parse_chunked(unreader)
        except NoMoreData:
            raise ChunkedBodyCutShort() from None


class StrictRequest(Request):
    """gunicorn's request (its Python parser: gunicorn_conf sets http_parser), refusing a head over
    limits.MAX_HEAD_BYTES with a 431, a chunked body cut short with a 400 (ChunkedBodyCutShort), and
    a transfer coding other than chunked with a 400 (TransferCodingRefused).
    gunicorn limits each header line and their number only, and buffers up to their product (some
    800 KB) looking for the end of the headers: this refuses as soon as what it has read cannot end
    within the limit."""

    _request_line_bytes: Optional[int] = None  # with its CRLF; None while the request line is read

    def parse_request_line(self, line_bytes: bytes) -> None:
        self._request_line_bytes = len(line_bytes) + 2
        super().parse_request_line(line_bytes)

    def read_into(self, unreader: Any, buf: bytearray, stop: bool = False) -> None:
        # Before reading too: what is in already (all of it, when the worker's poller read it) may be over.
        self._refuse_head_over_limit(buf)
        super().read_into(unreader, buf, stop)
        self._refuse_head_over_limit(buf)

    def _refuse_head_over_limit(self, buf: bytearray) -> None:
        if self._request_line_bytes is None:  # the request line, within its own limit
            return
        # ``buf`` holds what follows the request line: the headers end (CRLF CRLF) within the room left.
        room = limits.MAX_HEAD_BYTES - self._request_line_bytes
        if len(buf) >= room and not buf.startswith(b"\r\n") and buf.find(b"\r\n\r\n", 0, room) < 0:
            raise LimitRequestHeaders(limits.HEAD_TOO_LARGE)

    def parse_headers(self, data: bytes, from_trailer: bool = False) -> Any:
        # ``data``: the header lines without the CRLF of the last one and the empty line.
        if not from_trailer and (self._request_line_bytes or 0) + len(data) + 4 > limits.MAX_HEAD_BYTES:
            raise LimitRequestHeaders(limits.HEAD_TOO_LARGE)
        return super().parse_headers(data, from_trailer)

    def set_body_reader(self) -> None:
        unsupported = limits.unsupported_transfer_coding(
            [value for name, value in self.headers if name == "TRANSFER-ENCODING"])
        if unsupported:
            raise TransferCodingRefused(unsupported)
        super().set_body_reader()
        if isinstance(self.body.reader, ChunkedReader):
            self.body = Body(CompleteChunkedReader(self, self.unreader))


class TimedRequestParser(RequestParser):
    mesg_class = StrictRequest

    def __init__(self, cfg: Any, source: Any, source_addr: Any) -> None:
        super().__init__(cfg, source, source_addr)
        if isinstance(self.unreader, SocketUnreader):
            self.unreader = TimedSocketUnreader(source)

    def __next__(self) -> Any:
        unreader = self.unreader
        if not isinstance(unreader, TimedSocketUnreader):
            return super().__next__()
        unreader.head_deadline, unreader.body_deadline = time.monotonic() + HEAD_TIMEOUT_SECONDS, None
        try:
            request = super().__next__()
        finally:
            unreader.head_deadline = None
        unreader.body_deadline = time.monotonic() + BODY_TIMEOUT_SECONDS
        return request

    next = __next__


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    message = reason if not mesg or status_int >= 500 else f"{reason}: {mesg}"
    util.write_nonblock(sock, limits.refusal(status_int, reason, message))


# What the poller reads of one request before it hands the connection to a thread at the latest.
MAX_PREFETCH_BYTES = limits.MAX_HEAD_BYTES + MAX_PREFETCH_BODY_BYTES


def _arrival_deadline(begun: bytes) -> float:
    """When a request that ``begun`` starts must be whole: its head within HEAD_TIMEOUT_SECONDS of its
    first bytes, its body within BODY_TIMEOUT_SECONDS of its head (``begun`` read just now)."""
    return time.monotonic() + (HEAD_TIMEOUT_SECONDS if waiting_for(begun) == "head" else BODY_TIMEOUT_SECONDS)


class JsonErrorThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        util.write_error = write_json_error
        gunicorn.http.RequestParser = TimedRequestParser  # what gunicorn.http.get_parser builds
        # Connections whose request is arriving, read by the poller: when each must be whole.
        self.arriving: dict[TConn, float] = {}
        super().init_process()  # runs the worker until it stops

    # -- requests read whole by the poller (container/prefetch.py) ------------------------------------
    def on_pending_socket_readable(self, conn: TConn, client: Any) -> None:
        """A new connection's first bytes: read here, not in a thread."""
        self.pending_conns.remove(conn)
        self._begin_arriving(conn, client)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection's next request: read here, not in a thread."""
        self.keepalived_conns.remove(conn)
        self._begin_arriving(conn, client)

    def _begin_arriving(self, conn: TConn, client: Any) -> None:
        self._await_rest(conn, b"")
        self.poller.modify(client, selectors.EVENT_READ, partial(self._read_arriving, conn))
        self._read_arriving(conn, client)

    def _await_rest(self, conn: TConn, begun: bytes) -> None:
        conn.prefetched = bytearray(begun)
        self.arriving[conn] = _arrival_deadline(begun)

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """gunicorn's; but a kept-alive connection whose next request has begun to arrive with the last
        one (pipelined) waits in the poller until it is whole, as a new request does; gunicorn handed it
        straight to a thread, which then waited on the client."""
        kept_alive = not fs.cancelled() and fs.exception() is None and fs.result() is True
        if kept_alive and self.alive and conn.parser is not None:
            begun = conn.parser.unreader.take_buffered()
            if begun and not ready_for_a_thread(begun):
                conn.sock.setblocking(False)
                self._await_rest(conn, begun)
                self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_arriving, conn))
                return
            conn.parser.unreader.unread(begun)
        super().finish_request(conn, fs)

    def _read_arriving(self, conn: TConn, client: Any) -> None:
        """Take what the client sent (never waiting); hand the connection to a thread once the request is whole."""
        ended = False
        try:
            while len(conn.prefetched) < MAX_PREFETCH_BYTES:
                chunk = client.recv(MAX_PREFETCH_BYTES, socket.MSG_DONTWAIT)
                if not chunk:
                    ended = True
                    break
                head_was_in = waiting_for(conn.prefetched) == "body"
                conn.prefetched += chunk
                if not head_was_in and waiting_for(conn.prefetched) == "body":
                    self.arriving[conn] = _arrival_deadline(conn.prefetched)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset by the client: nobody to answer
            self._drop_arriving(conn)
            return
        if ended and not conn.prefetched:
            self._drop_arriving(conn)  # connected and closed without a request
        elif ended or len(conn.prefetched) >= MAX_PREFETCH_BYTES or ready_for_a_thread(conn.prefetched):
            self.poller.unregister(client)
            del self.arriving[conn]
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop_arriving(self, conn: TConn, answer: bytes = b"") -> None:
        self.arriving.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        if answer:
            try:
                conn.sock.send(answer, socket.MSG_DONTWAIT)
            except OSError:  # gone, or not reading: closing is all that is left
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """gunicorn's (connections that sent nothing), and 408 to requests not whole in time."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in [(conn, deadline) for conn, deadline in self.arriving.items() if deadline <= now]:
            message = head_not_received() if waiting_for(conn.prefetched) == "head" else body_not_received()
            self.log.warning("Request from ip=%s timed out: %s", (conn.client or ("",))[0], message)
            self._drop_arriving(conn, limits.refusal(408, "Request Timeout", message))

    def handle(self, conn: TConn) -> Any:
        """gunicorn's, reading first what the poller read of the request."""
        prefetched = getattr(conn, "prefetched", None)
        if prefetched:
            conn.prefetched = None
            conn.init()
            conn.parser.unreader.unread(bytes(prefetched))  # its buffer is empty: nothing else was read
        return super().handle(conn)

    def accept(self, listener: Any) -> None:
        """gunicorn's, but the connection goes to the poller, not a thread, until it has bytes to read."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client_sock.setblocking(False)
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.timeout = time.monotonic() + self.cfg.keepalive  # as gunicorn times out the connections it defers
        self.pending_conns.append(conn)
        self.poller.register(client_sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, RequestReadTimeout):  # gunicorn would answer it 500 as an application fault
            self.log.warning("Request from ip=%s timed out: %s", (addr or ("",))[0], exc)
            try:
                write_json_error(client, 408, "Request Timeout", str(exc))
            except OSError:  # the client went away meanwhile: nobody to answer
                pass
            return
        super().handle_error(req, client, addr, exc)
