"""The HTTP middleware: correlation ids, JSON errors, security headers, logs, SLI metrics, tracing."""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any, Callable, Optional

from chalice.app import Request, Response, handle_extra_types

from chalicelib.auth import UNAUTHENTICATED, audit, refused_outcome
from chalicelib.errors import error_chain
from chalicelib.http.errors import ApiError, ValidationFailed
from chalicelib.http.request import check_body_size, check_content_encoding, check_content_type, no_body
from chalicelib.http.routing import accepted_media_types, declared_media_types, is_routed
from chalicelib.observability import metrics
from chalicelib.observability.logging import get_logger
from chalicelib.observability.request_context import begin_request, record_failure_cause
from chalicelib.observability.tracing import request_segment

CORRELATION_HEADER = "X-Correlation-Id"
# No "@": the id is in every log record, and logs carry no email address.
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
HTML_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def server_answer_headers() -> dict[str, str]:
    """The headers of an answer a server writes without the app (an unknown route's 404, a 414, a
    408): the security headers and a correlation id of its own, as API Gateway's responses carry its
    request id (terraform/modules/rest_api), since the request's own may be unread or unreadable."""
    return {**SECURITY_HEADERS, CORRELATION_HEADER: str(uuid.uuid4())}


def correlation_id_for(request: Request) -> str:
    for header in ("x-correlation-id", "x-request-id"):
        value = request.headers.get(header)
        # Sent twice, which one is meant is a guess (API Gateway keeps the last, a WSGI server joins them).
        if value and _CORRELATION_ID.fullmatch(value) and len(_header_values(request, header)) <= 1:
            return value
    return (request.context or {}).get("requestId") or str(uuid.uuid4())


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers=dict(headers or {}))


def _json_error_body(response: Response, route: str, method: str) -> Response:
    """Chalice's own errors say ``{"Code", "Message"}``; every error here says ``{"error"}``."""
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        message = "Internal server error" if response.status_code >= 500 else body["Message"]
        if body["Code"] == "UnsupportedMediaType":
            message = f"{body['Message']}; this endpoint accepts {' or '.join(accepted_media_types(route, method))}"
        response.body = {"error": message}
        response.headers["Content-Type"] = "application/json"
    return response


def _strict_json_body(response: Response, logger: Any) -> Response:
    """Serialize a JSON body here, refusing NaN/Infinity: Chalice would write them as invalid JSON."""
    if response.status_code == 204:
        # No content, so no content type either (RFC 9110 15.3.5).
        for name in [name for name in response.headers if name.lower() == "content-type"]:
            del response.headers[name]
        response.body = ""
        return response
    if isinstance(response.body, (str, bytes)):
        return response
    try:
        response.body = json.dumps(response.body, separators=(",", ":"), allow_nan=False,
                                   default=handle_extra_types)
    except ValueError as exc:
        record_failure_cause(f"response body is not valid JSON: {exc}")
        return error_response(500, {"error": "Internal server error"},
                              {"Content-Type": "application/json"})
    response.headers.setdefault("Content-Type", "application/json")
    return response


def describe_failure(exc: BaseException, depth: int = 4) -> str:
    """``Type: message`` of an error and what caused it (explicit or implicit chaining), for logs."""
    parts: list[str] = []
    for seen in error_chain(exc, limit=4 * depth):
        if len(parts) == depth:
            break
        part = f"{type(seen).__name__}: {seen}"[:300]
        if not parts or part != parts[-1]:  # a library re-raising its own error says it once
            parts.append(part)
    return " <- ".join(parts)


def _reject_repeated_query_parameters(request: Request) -> None:
    """``?limit=5&limit=abc`` is ambiguous (views read one value): a 400 instead of a guess."""
    params = request.query_params
    if not params or not hasattr(params, "getlist"):
        return
    repeated = sorted(name for name in params if len(params.getlist(name)) > 1)
    if repeated:
        raise ApiError("Validation failed", details={name: ["Given more than once."] for name in repeated})


def _header_values(request: Request, name: str) -> list[str]:
    """Every value the client sent for header ``name`` (API Gateway's ``multiValueHeaders``)."""
    multi_value = request.to_original_event().get("multiValueHeaders") or {}
    return [value for given_name, given in multi_value.items() if given_name.lower() == name for value in given or ()]


# Headers whose second value is ambiguous: API Gateway hands the app the last one, Chalice's local
# server the first, a proxy in front may have checked either (gunicorn refuses a second Content-Type).
SINGLE_VALUE_HEADERS = {"authorization": ("Authorization", "send one Authorization: Bearer <token>"),
                        "content-type": ("Content-Type", "send one Content-Type")}


def _joined_credentials(value: str) -> bool:
    """Whether an Authorization value is two joined with a comma, as gunicorn hands two headers to the
    app (RFC 9110 5.3): more than one part names a scheme. A token with a comma in it is only invalid."""
    return sum(1 for part in value.split(",") if part.strip().lower().startswith("bearer ")) > 1


def _reject_repeated_headers(request: Request) -> None:
    """A 400 instead of a guess at which of two values counts."""
    for name, (display_name, advice) in SINGLE_VALUE_HEADERS.items():
        joined = name == "authorization" and _joined_credentials(request.headers.get(name) or "")
        if joined or len(_header_values(request, name)) > 1:
            raise ApiError(f"{display_name} is given more than once; {advice}")


# The operators' plane. Its requests count as requests, never as SLI events of the user API: the
# dashboard reloading every few seconds (its aggregate read takes a few hundred ms) would otherwise
# spend the latency SLO's budget by being looked at.
SRE_PLANE_PREFIX = "/sre/"

# GET routes of the SRE plane anyone may call: the acknowledge link is signed, and the dashboard
# page and its files carry no data (the page reads GET /sre/dashboard with the token it is given).
PUBLIC_SRE_READS = frozenset({"/sre/incidents/{incident_id}/ack-link", "/sre/dashboard-ui",
                              "/sre/dashboard-ui/assets/{name}"})


def _require_sre_reader(request: Request) -> None:
    """Every other read of /sre/ needs a viewer (or operator) token where the setting asks for it."""
    route = (request.context or {}).get("resourcePath", "")
    if request.method not in ("GET", "HEAD") or not route.startswith(SRE_PLANE_PREFIX) or route in PUBLIC_SRE_READS:
        return
    from chalicelib.wiring import current

    wired = current()
    if wired.settings.service.sre_reads_require_token:
        wired.viewer_auth.require(request.headers)


# Writes of the control planes need the operator token, which their views check and audit; one
# refused before its view (a content type, size or query it does not take) is audited here, under
# its method and route, so no attempt at an operator action goes unrecorded.
CONTROL_PLANE_PREFIXES = (SRE_PLANE_PREFIX, "/_local/")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ANONYMOUS_WRITES = {("/sre/incidents/{incident_id}/ack-link", "POST")}  # the signed link proves itself


def allow_anonymous_write(route: str, method: str) -> None:
    """A control-plane write that proves itself otherwise (a signature) instead of with the operator token."""
    _ANONYMOUS_WRITES.add((route, method))


def _is_operator_write(route: str, method: str) -> bool:
    return (method not in READ_METHODS and route.startswith(CONTROL_PLANE_PREFIXES)
            and (route, method) not in _ANONYMOUS_WRITES and is_routed(route, method))


# Methods whose requests carry no body here: one sent anyway would be silently ignored.
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})
REPLACEMENT_CHARACTER = "\ufffd"


def _reject_undecodable_query(request: Request) -> None:
    """Chalice's local server (so also the container) decodes an invalid UTF-8 escape (``%FF``) in a
    query string to U+FFFD: the view would read a character the client never sent."""
    params = request.query_params or {}
    broken = sorted(name if REPLACEMENT_CHARACTER not in name else "(parameter name)" for name in params
                    if REPLACEMENT_CHARACTER in name or REPLACEMENT_CHARACTER in params[name])
    if broken:
        raise ValidationFailed({name: ["Must be UTF-8 text: holds an invalid %-escape or U+FFFD."] for name in broken})


def _audit_target(request: Request, route: str) -> str:
    return "/".join((request.uri_params or {}).values()) or route


def _admit(request: Request, route: str) -> None:
    """Every check made before the view; a refused control-plane write is audited."""
    try:
        _reject_repeated_headers(request)
        _require_sre_reader(request)
        check_content_type(request, declared_media_types(route, request.method))
        check_content_encoding(request)
        check_body_size(request)
        if request.method in BODYLESS_METHODS and is_routed(route, request.method):
            no_body(request)
        _reject_repeated_query_parameters(request)
        _reject_undecodable_query(request)
    except ApiError as refused:
        if _is_operator_write(route, request.method):
            audit(_operator_or_unauthenticated(request), f"{request.method} {route}",
                  _audit_target(request, route), refused_outcome(refused))
        raise


def _operator_or_unauthenticated(request: Request) -> str:
    from chalicelib.wiring import current

    try:
        return current().operator_auth.require(request.headers)
    except ApiError:
        return UNAUTHENTICATED


def _call_view(request: Request, get_response: Callable[[Request], Response], fault: Any = None) -> Response:
    try:
        _admit(request, (request.context or {}).get("resourcePath", ""))
        if fault is not None:
            injected = _apply_route_fault(fault)
            if injected is not None:
                return injected
        return get_response(request)
    except ApiError as exc:
        if exc.status_code >= 500:
            record_failure_cause(describe_failure(exc))
        return error_response(exc.status_code, exc.body(), exc.headers)


def route_fault_sleep(seconds: float) -> None:
    """The delay of a route latency fault (tests replace this one name, not the time module's sleep)."""
    time.sleep(seconds)


def _apply_route_fault(fault: Any) -> Optional[Response]:
    """A chaos route fault: added latency before the view, or an error status instead of it."""
    from chalicelib.chaos.model import ROUTE_LATENCY

    if fault.kind == ROUTE_LATENCY:
        route_fault_sleep(max(0.0, fault.magnitude) / 1000.0)
        return None
    record_failure_cause(f"injected by chaos experiment {fault.experiment_id}")
    return error_response(int(fault.magnitude), {"error": "Service temporarily unavailable"},
                          {"Content-Type": "application/json"})


def _content_type(response: Response) -> str:
    for name, value in response.headers.items():
        if name.lower() == "content-type":
            return value
    return "application/json"


def add_security_headers(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if _content_type(response).startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", HTML_CONTENT_SECURITY_POLICY)


_cold_start_pending = True
_cold_start_lock = threading.Lock()


def _take_cold_start() -> bool:
    """True for the first request this process serves (a Lambda cold start), once."""
    global _cold_start_pending
    if not _cold_start_pending:
        return False
    with _cold_start_lock:
        cold, _cold_start_pending = _cold_start_pending, False
        return cold


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    started = time.perf_counter()
    cold_start = _take_cold_start()
    from chalicelib.wiring import current

    wired = current()
    settings = wired.settings.service
    logger = get_logger()
    route = (request.context or {}).get("resourcePath", "unknown")
    correlation_id = correlation_id_for(request)
    facts = begin_request()
    facts.excluded_from_sli = route.startswith(SRE_PLANE_PREFIX)
    fault = wired.chaos_faults.route_fault(route)
    if fault is not None:
        facts.chaos_experiment = fault.experiment_id
    # Per thread (a context variable): append_keys would share them with every concurrent request.
    logger.thread_safe_append_keys(correlation_id=correlation_id, route=route)
    try:
        with request_segment(route, correlation_id):
            response = _strict_json_body(
                _json_error_body(_call_view(request, get_response, fault), route, request.method), logger)
        response.headers[CORRELATION_HEADER] = correlation_id
        if facts.served_stale:
            response.headers["X-Data-Stale"] = "true"
        add_security_headers(response)
        latency_ms = (time.perf_counter() - started) * 1000
        metrics.emit(metrics.build_request_record(
            namespace=settings.metrics_namespace, service=settings.service_name, route=route,
            status=response.status_code, latency_ms=latency_ms, facts=facts,
            thresholds_ms=settings.latency_thresholds_ms, correlation_id=correlation_id, method=request.method,
            cold_start=cold_start))
        if facts.chaos_experiment:
            logger.info("request touched by a chaos fault", extra={
                "chaos_experiment": facts.chaos_experiment, "method": request.method,
                "status": response.status_code, "latency_ms": round(latency_ms, 3)})
        if response.status_code >= 500:
            logger.error("request failed", extra={
                "method": request.method, "status": response.status_code, "latency_ms": round(latency_ms, 3),
                "chaos_experiment": facts.chaos_experiment,
                "cause": facts.failure_cause or "not recorded: the view returned a 5xx without a cause"})
        return response
    finally:
        logger.thread_safe_remove_keys(["correlation_id", "route"])
