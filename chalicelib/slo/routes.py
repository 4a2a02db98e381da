"""The SLO endpoints: ``/sre/slos``, ``/sre/slos/{name}``, ``/sre/alerts``, ``/sre/metrics``,
``/sre/health`` (the SRE plane itself) and ``/sre/budget`` (release freeze for pipelines).
Read-only; the figures come from what the evaluator stored.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from chalice import Blueprint

from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.errors import ApiError, NotFound
from chalicelib.http.request import known_query, no_query, query_int
from chalicelib.slo.status import UnknownSlo

MAX_SERIES_HOURS = 168
MAX_ALERTS = 500


def _unknown(exc: UnknownSlo) -> NotFound:
    return NotFound(f"Unknown SLO {exc.name!r}", details={"known": exc.known})


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The SLO routes, reading through ``wired().slo_status`` (``chalicelib.wiring.current``)."""
    blueprint = ReusableBlueprint(__name__)

    def reader() -> Any:
        return wired().slo_status

    @blueprint.route("/sre/slos", methods=["GET"])
    def list_slos() -> dict[str, Any]:
        no_query(blueprint.current_request)
        return {"slos": reader().summaries()}

    @blueprint.route("/sre/slos/{name}", methods=["GET"])
    def get_slo(name: str) -> dict[str, Any]:
        hours = query_int(known_query(blueprint.current_request, {"hours"}), "hours", default=24, minimum=1,
                          maximum=MAX_SERIES_HOURS)
        try:
            return reader().detail(name, hours)
        except UnknownSlo as exc:
            raise _unknown(exc) from None

    @blueprint.route("/sre/alerts", methods=["GET"])
    def list_alerts() -> dict[str, Any]:
        params = known_query(blueprint.current_request, {"state", "limit"})
        state = params.get("state", "all")
        if state not in ("open", "resolved", "all"):
            raise ApiError("Validation failed", details={"state": ["Must be open, resolved or all."]})
        return reader().alerts(state, query_int(params, "limit", default=50, minimum=1, maximum=MAX_ALERTS))

    @blueprint.route("/sre/metrics", methods=["GET"])
    def service_metrics() -> dict[str, Any]:
        no_query(blueprint.current_request)
        return reader().service_metrics()

    @blueprint.route("/sre/health", methods=["GET"])
    def plane_health() -> dict[str, Any]:
        no_query(blueprint.current_request)
        return reader().plane_health()

    @blueprint.route("/sre/budget", methods=["GET"])
    def release_budget() -> dict[str, Any]:
        name: Optional[str] = known_query(blueprint.current_request, {"slo"}).get("slo")
        try:
            return reader().release_decision(name)
        except UnknownSlo as exc:
            raise _unknown(exc) from None

    return blueprint
