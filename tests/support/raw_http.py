"""One HTTP exchange in raw bytes, for tests of what servers answer to requests no client library sends."""
from __future__ import annotations

import socket


def one_answer(host: str, port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body) of the answer to ``request``, sent as it is; the write side
    is then closed and everything the server sends until it closes is read."""
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body
