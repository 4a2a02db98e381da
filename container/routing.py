"""Chalice's API Gateway emulation, routing the path as the client sent it.

``chalice.local``'s route matcher takes the path from ``urlparse``, which splits ``;params`` off
the last segment (``DELETE /api/users/<id>;junk`` deleted the user ``<id>``, ``GET /health;x``
answered 200) and reads ``//host/path`` as a host and ``/path``. API Gateway and gunicorn match
the path as sent: no route has a ``;`` or an empty first segment, so those are unknown routes.
Both the container (``container/wsgi.py``) and the local stack's gateway route through this.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from chalice.config import Config
from chalice.local import LambdaEventConverter, LocalGateway, MatchResult, RouteMatcher


def split_target(target: str) -> SplitResult:
    """The request target's parts as gunicorn splits them: a target starting with ``//`` is a path
    (urlsplit alone would read its first segment as a host)."""
    if target.startswith("//"):
        parts = urlsplit("." + target)
        return parts._replace(path=parts.path[1:])
    return urlsplit(target)


class AsSentRouteMatcher(RouteMatcher):
    def match_route(self, url: str) -> MatchResult:
        target = split_target(url)
        query_params = parse_qs(target.query, keep_blank_values=True)
        path = target.path
        if path != "/" and path.endswith("/"):  # API Gateway ignores a trailing slash, as Chalice's matcher does
            path = path[:-1]
        segments = path.split("/")
        for route in self.route_urls:  # sorted: a literal segment before a {capture} in the same place
            captured = _captures(route.split("/"), segments)
            if captured is not None:
                return MatchResult(route, captured, query_params)
        raise ValueError(f"No matching route found for: {url}")


def _captures(route_segments: list[str], segments: list[str]) -> dict[str, str] | None:
    """The route's ``{name}`` segments with the path's values, or None when the path is not the route's."""
    if len(route_segments) != len(segments):
        return None
    captured = {}
    for expected, given in zip(route_segments, segments):
        if expected.startswith("{") and expected.endswith("}"):
            captured[expected[1:-1]] = given
        elif expected != given:
            return None
    return captured


class AsSentGateway(LocalGateway):
    """``chalice.local.LocalGateway`` matching routes on the path as sent."""

    def __init__(self, app_object: Any, config: Config) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(AsSentRouteMatcher(list(app_object.routes)),
                                                    app_object.api.binary_types)
