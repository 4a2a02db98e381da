"""Operator authentication for control-plane endpoints.

The operator token lives in Secrets Manager; callers send it as
``Authorization: Bearer <token>``. It is compared in constant time and never logged.
"""
from __future__ import annotations

import hmac
import json
import time
from typing import Any, Callable, Mapping, Optional

from chalicelib.http.errors import Forbidden, ServiceUnavailable, Unauthorized
from chalicelib.settings import get_settings, settings_scoped


class SecretReader:
    """Reads a secret string, caching it in-process for ``ttl_seconds``."""

    def __init__(self, secrets_client: Any = None, ttl_seconds: Optional[int] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = secrets_client
        self._ttl = get_settings().secret_cache_seconds if ttl_seconds is None else ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def _secrets(self) -> Any:
        if self._client is None:
            from chalicelib.aws import client

            self._client = client("secretsmanager")
        return self._client

    def read(self, secret_id: str) -> str:
        cached = self._cache.get(secret_id)
        now = self._clock()
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        value = self._secrets().get_secret_value(SecretId=secret_id)["SecretString"]
        self._cache[secret_id] = (now, value)
        return value

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


class OperatorAuth:
    def __init__(self, secrets: Optional[SecretReader] = None, secret_id: Optional[str] = None) -> None:
        self._secrets = secrets or SecretReader()
        self._secret_id = secret_id or get_settings().operator_token_secret

    def require(self, headers: Mapping[str, str]) -> None:
        presented = _bearer_token(headers)
        if presented is None:
            raise Unauthorized("Authentication required: send Authorization: Bearer <operator token>",
                               headers={"WWW-Authenticate": 'Bearer realm="sre"'})
        try:
            expected = self._secrets.read_field(self._secret_id, "token")
        except Exception as exc:  # any failure to read the secret must fail closed, retryably
            raise ServiceUnavailable("Operator token cannot be verified right now") from exc
        if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
            raise Forbidden("Operator token is not valid")


def _bearer_token(headers: Mapping[str, str]) -> Optional[str]:
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@settings_scoped
def _operator_auth() -> OperatorAuth:
    return OperatorAuth()


def require_operator(headers: Mapping[str, str]) -> None:
    """Raise 401/403 unless ``headers`` carry the operator token."""
    _operator_auth().require(headers)


reset_operator_auth = _operator_auth.reset
