"""Operator authentication and audit for control-plane endpoints.

The operator tokens live in one Secrets Manager secret; callers send theirs as
``Authorization: Bearer <token>``. The secret is either a JSON object of named operators,
``{"alice": "<token>", "bob": "<token>"}``, or a plain string (or ``{"token": "<token>"}``):
one token whose holder is recorded as ``shared-token``. Tokens are compared in constant time and never logged.

Every control-plane action runs inside ``OperatorAuth.action``, which authenticates the
caller and writes one ``audit`` log line saying who did what to which target and how it
ended (also for refused and failed attempts); the action itself records the operator's
name wherever it keeps history (incident timelines, breaker transitions).
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional

from chalicelib.http.errors import ApiError, Forbidden, ServiceUnavailable, Unauthorized

SHARED_TOKEN_OPERATOR = "shared-token"
UNAUTHENTICATED = "unauthenticated"  # who an audit line names when no token (or signed link) said who
OPERATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


class SecretReader:
    """Reads a secret string, caching it in-process for ``ttl_seconds``."""

    def __init__(self, secrets_client: Any, ttl_seconds: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = secrets_client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def read(self, secret_id: str) -> str:
        cached = self._cache.get(secret_id)
        now = self._clock()
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        value = self._client.get_secret_value(SecretId=secret_id)["SecretString"]
        self._cache[secret_id] = (now, value)
        return value

    def forget(self, secret_id: str) -> None:
        """The next read asks Secrets Manager again (the secret was rotated)."""
        self._cache.pop(secret_id, None)

    def read_field(self, secret_id: str, field: str) -> str:
        """A secret stored either as a plain string or as JSON with ``field``."""
        raw = self.read(secret_id)
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(parsed, dict) and isinstance(parsed.get(field), str):
            return parsed[field]
        return raw


def parse_operators(raw: str) -> dict[str, str]:
    """Operator name -> token from the secret's value (see the module docstring).

    A JSON object keeps the entries whose name is a plain identifier and whose token is a
    non-empty string; anything else in the secret is one shared token.
    """
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and set(parsed) == {"token"}:  # the earlier {"token": ...} shape
        parsed = parsed["token"] if isinstance(parsed["token"], str) else None
        return {SHARED_TOKEN_OPERATOR: parsed} if parsed else {}
    if isinstance(parsed, dict):
        return {name: token for name, token in parsed.items()
                if OPERATOR_NAME.match(name) and isinstance(token, str) and token}
    return {SHARED_TOKEN_OPERATOR: raw} if raw else {}


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class OperatorAuth:
    """Checks bearer tokens against the named tokens of one or more secrets (the viewer check
    takes the viewer secret's and the operator secret's: an operator may read too)."""

    def __init__(self, secrets: SecretReader, secret_id: str, *more_secret_ids: str, kind: str = "operator") -> None:
        self._secrets = secrets
        self._secret_ids = (secret_id, *more_secret_ids)
        self._kind = kind

    def require(self, headers: Mapping[str, str]) -> str:
        """The name of the holder of the token ``headers`` carry; 401/403/503 otherwise."""
        presented = _bearer_token(headers)
        if presented is None:
            raise Unauthorized(f"Authentication required: send Authorization: Bearer <{self._kind} token>",
                               headers={"WWW-Authenticate": 'Bearer realm="sre"'})
        holders: list[tuple[str, str]] = []
        try:
            for secret_id in self._secret_ids:
                holders.extend(sorted(parse_operators(self._secrets.read(secret_id)).items()))
        except Exception as exc:  # any failure to read the secret must fail closed, retryably
            raise ServiceUnavailable(f"{self._kind.capitalize()} token cannot be verified right now") from exc
        # Compare with every token, equal-length digests, no early exit: timing tells nothing.
        presented_digest, matched = _digest(presented), None
        for name, token in holders:
            if hmac.compare_digest(presented_digest, _digest(token)) and matched is None:
                matched = name
        if matched is None:
            raise Forbidden(f"{self._kind.capitalize()} token is not valid")
        return matched


def _bearer_token(headers: Mapping[str, str]) -> Optional[str]:
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass
class OperatorAction:
    """One control-plane action in progress: who is acting, and the outcome to audit."""

    operator: str
    action: str
    target: str
    outcome: str = "done"


def audit(who: str, action: str, target: str, outcome: str) -> None:
    from chalicelib.observability.logging import get_logger

    get_logger().info("audit", extra={"audit": {"who": who, "action": action, "target": target,
                                                "outcome": outcome}})


def refused_outcome(refused: ApiError) -> str:
    return f"refused {refused.status_code}: {refused.message}"


@contextlib.contextmanager
def audited(current: OperatorAction) -> Iterator[OperatorAction]:
    """Run the action ``current`` describes and log one ``audit`` line however it ends.

    The action may set ``outcome`` (e.g. "unchanged"), ``target`` (e.g. the id it created) and
    ``operator`` (once it knows who is acting); a refusal is audited with its status.
    """
    try:
        yield current
    except ApiError as refused:
        audit(current.operator, current.action, current.target, refused_outcome(refused))
        raise
    except Exception as exc:
        audit(current.operator, current.action, current.target, f"failed: {type(exc).__name__}")
        raise
    audit(current.operator, current.action, current.target, current.outcome)


@contextlib.contextmanager
def operator_action(auth: OperatorAuth, headers: Mapping[str, str], action: str,
                    target: str) -> Iterator[OperatorAction]:
    """Authenticate the operator with ``auth``, run the action, and log one ``audit`` line however it ends
    (see ``audited``); a refused token is audited as ``unauthenticated``."""
    try:
        operator = auth.require(headers)
    except ApiError as refused:
        audit(UNAUTHENTICATED, action, target, refused_outcome(refused))
        raise
    with audited(OperatorAction(operator, action, target)) as current:
        yield current

