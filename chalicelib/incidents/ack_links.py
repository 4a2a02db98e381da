"""Signed, expiring, single-use acknowledge links carried in pages.

The link is ``{base}/sre/incidents/{id}/ack-link?level=..&exp=..&nonce=..&sig=..`` where
``sig`` is HMAC-SHA256 over the id, level, expiry and nonce with a key from Secrets
Manager. Single use is enforced by the store (the nonce is recorded on the incident).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional
from urllib.parse import urlencode

from chalicelib.http.strict import parse_bounded_int

LINK_FIELDS = ("level", "exp", "nonce", "sig")
MAX_LEVEL = 1000
MAX_EPOCH_SECONDS = 10**11  # year 5138: any expiry a signer could have written


class LinkRejected(Exception):
    """Forged, malformed or expired; the message says which (it never echoes the signature)."""


@dataclass(frozen=True)
class AckLinkClaims:
    incident_id: str
    level: int
    expires_at: int
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class AckLinkSigner:
    def __init__(self, key: Callable[[], bytes], *, ttl_seconds: int, base_url: str,
                 clock: Callable[[], float] = time.time) -> None:
        """``key`` reads the HMAC key (from Secrets Manager, cached) each time a link is signed or checked."""
        self._key = key
        self._ttl = ttl_seconds
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    def _signature(self, incident_id: str, level: int, expires_at: int, nonce: str) -> str:
        message = f"ack|{incident_id}|{level}|{expires_at}|{nonce}".encode("utf-8")
        return _b64(hmac.new(self._key(), message, hashlib.sha256).digest())

    def link(self, incident_id: str, level: int) -> tuple[str, int]:
        """The URL and its expiry (epoch seconds)."""
        expires_at = int(self._clock()) + self._ttl
        nonce = secrets.token_hex(8)
        query = urlencode({"level": level, "exp": expires_at, "nonce": nonce,
                           "sig": self._signature(incident_id, level, expires_at, nonce)})
        return f"{self._base_url}/sre/incidents/{incident_id}/ack-link?{query}", expires_at

    def verify(self, incident_id: str, params: Optional[Mapping[str, str]]) -> AckLinkClaims:
        params = params or {}
        missing = [name for name in LINK_FIELDS if not params.get(name)]
        if missing:
            raise LinkRejected(f"Acknowledge link is incomplete: missing {', '.join(missing)}")
        raw_level, raw_expires_at, nonce, signature = (params[name] for name in LINK_FIELDS)
        level = parse_bounded_int(raw_level, 0, MAX_LEVEL)
        expires_at = parse_bounded_int(raw_expires_at, 0, MAX_EPOCH_SECONDS)
        if level is None or expires_at is None or len(nonce) != 16 or len(signature) > 64:
            raise LinkRejected("Acknowledge link is malformed")
        expected = self._signature(incident_id, level, expires_at, nonce)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise LinkRejected("Acknowledge link signature is not valid")
        if expires_at <= self._clock():
            raise LinkRejected(
                f"Acknowledge link has expired; acknowledge with POST /sre/incidents/{incident_id}/ack")
        return AckLinkClaims(incident_id, level, expires_at, nonce)
