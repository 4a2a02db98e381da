"""Route-table helpers for behaviour API Gateway would otherwise decide."""
from __future__ import annotations

from typing import Optional

from chalice import Chalice
from chalice.app import Response

# HEAD and OPTIONS too: unrouted, Chalice answers HEAD with an Allow naming every method of the
# route table, and its local server answers OPTIONS itself, with no JSON and none of our headers.
STANDARD_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
_ACCEPTED_MEDIA_TYPES: dict[tuple[str, str], tuple[str, ...]] = {}
METHOD_NOT_ALLOWED_VIEW = "method_not_allowed_"  # the name every 405 view starts with


def method_not_supported(method: str) -> tuple[str, str]:
    """The 405's message and ``Allow`` value for a method no route serves, whatever the path (the
    local gateway and the container answer it before routing)."""
    return f"Method {method} is not supported", ", ".join(sorted(STANDARD_METHODS))


def take_over_media_type_checks(app: Chalice) -> None:
    """Keep each route's accepted body types, then let every type through Chalice's own check, so the
    middleware's (``check_content_type``) is the only one: it names what a route accepts (Chalice's
    415 names only what was sent) and checks a type only when there is a body to read (Chalice
    refused a body-less GET that declared ``text/plain``). Call it once the app's routes are registered,
    before ``answer_wrong_methods_with_405``; again after registering more (the local routes)."""
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            if entry.view_name.startswith(METHOD_NOT_ALLOWED_VIEW):
                continue
            _ACCEPTED_MEDIA_TYPES.setdefault((path, method), tuple(entry.content_types))
            entry.content_types = ["*/*"]


def is_routed(path: str, method: str) -> bool:
    """Whether a view of an app that handed its checks over serves ``method`` on ``path`` (not a 405)."""
    return (path, method) in _ACCEPTED_MEDIA_TYPES


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

        view_name = METHOD_NOT_ALLOWED_VIEW + "".join(c if c.isalnum() else "_" for c in path)
        method_not_allowed.__name__ = view_name
        app.route(path, methods=missing, content_types=["*/*"], name=view_name)(method_not_allowed)
