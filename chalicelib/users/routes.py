"""The user endpoints: what each route reads from the request and answers, and the blueprint."""
from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import urlencode

from chalice.app import Blueprint, Request, Response

from chalicelib.http.errors import ApiError, ServiceUnavailable, ValidationFailed
from chalicelib.http.blueprint import ReusableBlueprint
from chalicelib.http.request import json_object
from chalicelib.observability.request_context import current_facts
from chalicelib.users.service import UserService
from chalicelib.web.pages import parse_form, render_index

NEXT_CURSOR_HEADER = "X-Next-Cursor"
HTML = {"Content-Type": "text/html; charset=utf-8"}
FORM_FIELDS = ("name", "email")  # any other field of the form is ignored, as the page sends none


def list_users(service: UserService, request: Request) -> Response:
    params = request.query_params or {}
    page = service.list_page(params.get("limit"), params.get("cursor"))
    headers = {}
    if page.next_cursor:
        headers[NEXT_CURSOR_HEADER] = page.next_cursor
        query = urlencode({**({"limit": params["limit"]} if "limit" in params else {}), "cursor": page.next_cursor})
        headers["Link"] = f'</api/users?{query}>; rel="next"'
    return Response(body=[user.to_json() for user in page.users], headers=headers, status_code=200)


def create_user(service: UserService, request: Request) -> Response:
    user = service.create(json_object(request))
    return Response(body=user.to_json(), status_code=201, headers={"Location": f"/api/users/{user.id}"})


def get_user(service: UserService, user_id: str) -> Response:
    return Response(body=service.get(user_id).to_json(), status_code=200)


def update_user(service: UserService, request: Request, user_id: str) -> Response:
    return Response(body=service.update(user_id, json_object(request)).to_json(), status_code=200)


def delete_user(service: UserService, user_id: str) -> Response:
    service.delete(user_id)
    return Response(body="", status_code=204)


def index_page(service: UserService, *, error: Optional[ApiError] = None,
               form: Optional[dict] = None, status_code: int = 200) -> Response:
    try:
        users: Optional[list] = service.list_page().users
    except ServiceUnavailable:
        if error is None:
            raise
        # The page showing a client's mistake stays that mistake's 4xx, without the list it cannot read.
        users = None
    body = render_index(users, error=error, form=form, stale=current_facts().served_stale)
    return Response(body=body, status_code=status_code, headers=HTML)


def submit_user_form(service: UserService, request: Request) -> Response:
    try:
        form = parse_form(request.raw_body)
    except UnicodeDecodeError:  # as the JSON API: 400, nothing created
        return index_page(service, error=ApiError("Form body is not valid UTF-8"), status_code=400)
    fields = {name: form[name][0] for name in FORM_FIELDS if name in form}
    try:
        repeated = [name for name in FORM_FIELDS if len(form.get(name, ())) > 1]
        if repeated:  # which value is meant would be a guess, as with a query parameter given twice
            raise ValidationFailed({name: ["Given more than once."] for name in repeated})
        service.create(fields)
    except ApiError as error:
        if error.status_code >= 500:
            raise
        # The page with the error, under the status the JSON API gives the same mistake.
        return index_page(service, error=error, form=fields, status_code=error.status_code)
    return Response(body="", status_code=302, headers={"Location": "/", **HTML})


def build_blueprint(wired: Callable[[], Any]) -> Blueprint:
    """The user routes, each taking the service from ``wired()`` (``chalicelib.wiring.current``)."""
    bp = ReusableBlueprint(__name__)

    def users() -> UserService:
        return wired().user_service

    @bp.route("/", methods=["GET"])
    def index():
        return index_page(users())

    @bp.route("/user", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
    def submit_user():
        return submit_user_form(users(), bp.current_request)

    @bp.route("/api/users", methods=["GET"])
    def list_users_route():
        return list_users(users(), bp.current_request)

    @bp.route("/api/users", methods=["POST"])
    def create_user_route():
        return create_user(users(), bp.current_request)

    @bp.route("/api/users/{user_id}", methods=["GET"])
    def get_user_route(user_id):
        return get_user(users(), user_id)

    @bp.route("/api/users/{user_id}", methods=["PUT"])
    def update_user_route(user_id):
        return update_user(users(), bp.current_request, user_id)

    @bp.route("/api/users/{user_id}", methods=["DELETE"])
    def delete_user_route(user_id):
        return delete_user(users(), user_id)

    return bp
