"""``GET /sre/dashboard`` (the document), ``GET /sre/dashboard-ui`` (the page) and its assets."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.dashboard import assets
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.errors import NotFound
from chalicelib.http.request import no_query

# Stricter than the other HTML pages: no inline style either (the page's CSS is a file).
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/sre/dashboard", methods=["GET"])
    def dashboard_document() -> dict[str, Any]:
        no_query(blueprint.current_request)
        return wired().dashboard.document()

    @blueprint.route("/sre/dashboard-ui", methods=["GET"])
    def dashboard_page() -> Response:
        no_query(blueprint.current_request)
        body, content_type = assets.page()
        return Response(body=body, status_code=200,
                        headers={"Content-Type": content_type, "Content-Security-Policy": PAGE_CONTENT_SECURITY_POLICY})

    @blueprint.route("/sre/dashboard-ui/assets/{name}", methods=["GET"])
    def dashboard_asset(name: str) -> Response:
        no_query(blueprint.current_request)
        found = assets.asset(name)
        if found is None:
            raise NotFound(f"No dashboard asset {name!r}", details={"known": sorted(assets.ASSETS)})
        body, content_type = found
        return Response(body=body, status_code=200,
                        headers={"Content-Type": content_type, "Cache-Control": "public, max-age=300",
                                 "Content-Security-Policy": PAGE_CONTENT_SECURITY_POLICY})

    return blueprint
