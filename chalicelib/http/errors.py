"""Errors a view raises to answer with a JSON body; the middleware renders them."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chalice.app import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    """Chalice turns other view exceptions into a bare 500; this kind reaches the middleware."""

    status_code = 400

    def __init__(self, message: str, *, status_code: Optional[int] = None,
                 details: Optional[Mapping[str, Any]] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.details = dict(details) if details else None
        self.headers = dict(headers) if headers else {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(ApiError):
    def __init__(self, details: Mapping[str, list[str]]) -> None:
        super().__init__("Validation failed", status_code=400, details=details)


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class ServiceUnavailable(ApiError):
    """A dependency cannot take the request now; the client may retry."""

    status_code = 503

    def __init__(self, message: str, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})
