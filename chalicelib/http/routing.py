"""Route-table helpers for behaviour API Gateway would otherwise decide."""
from __future__ import annotations

from typing import Optional

from chalice import Chalice
from chalice.app import Response

# HEAD and OPTIONS too: unrouted, Chalice answers HEAD with an Allow naming every method of the
# route table, and its local server answers OPTIONS itself, with no JSON and none of our headers.
STANDARD_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
_ACCEPTED_MEDIA_TYPES: dict[tuple[str, str], tuple[str, ...]] = {}


def method_not_supported(method: str) -> tuple[str, str]:
    """The 405's message and ``Allow`` value for a method no route serves, whatever the path (the
    local gateway and the container answer it before routing)."""
    return f"Method {method} is not supported", ", ".join(sorted(STANDARD_METHODS))


def record_accepted_media_types(app: Chalice) -> None:
    """Keep each route's accepted body types, so a 415 can say them (Chalice's names only what was sent)."""
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            _ACCEPTED_MEDIA_TYPES[(path, method)] = tuple(entry.content_types)


def accepted_media_types(path: str, method: str) -> tuple[str, ...]:
    return declared_media_types(path, method) or ("application/json",)


def declared_media_types(path: str, method: str) -> Optional[tuple[str, ...]]:
    """The body types a route of the app declared; None for a route it did not (another app's, a 405 view)."""
    return _ACCEPTED_MEDIA_TYPES.get((path, method))


def answer_wrong_methods_with_405(app: Chalice) -> None:
    """Give every path a view for the methods it does not serve.

    Deployed, API Gateway answers an undefined method with the same 403 as an
    unknown path; registering the other methods makes both the gateway and the
    local server route them to the app, which answers 405 with ``Allow``.
    """
    for path, entries in list(app.routes.items()):
        allowed = sorted(entries)
        missing = [method for method in STANDARD_METHODS if method not in entries]
        if not missing:
            continue

        def method_not_allowed(*_args: str, _allowed: str = ", ".join(allowed), **_kwargs: str) -> Response:
            method = app.current_request.method
            return Response(body={"error": f"Method {method} is not allowed on this path; allowed: {_allowed}"},
                            status_code=405, headers={"Allow": _allowed})

        view_name = "method_not_allowed_" + "".join(c if c.isalnum() else "_" for c in path)
        method_not_allowed.__name__ = view_name
        app.route(path, methods=missing, content_types=["*/*"], name=view_name)(method_not_allowed)
