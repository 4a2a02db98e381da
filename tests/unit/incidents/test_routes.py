"""The incident endpoints through a Chalice app with the project's middleware."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from chalicelib.http.strict import FREE_TEXT_RULE


def _create(api_client, operator, **body):
    payload = {"title": "Checkout errors", "severity": "P1", **body}
    return api_client.http.post("/sre/incidents", headers=operator, body=json.dumps(payload))


@pytest.fixture
def incident_id(api_client, operator):
    return _create(api_client, operator).json_body["incident"]["id"]


def test_manual_incident_is_created_with_any_severity(api_client, operator):
    response = _create(api_client, operator, severity="P0", summary="All checkouts fail", by="alice")
    assert response.status_code == 201
    incident = response.json_body["incident"]
    assert (incident["severity"], incident["source"], incident["status"]) == ("P0", "manual", "triggered")
    assert incident["runbook"] == "runbooks/incident-manual.md"


def test_manual_incident_with_a_fingerprint_is_deduplicated(api_client, operator):
    first = _create(api_client, operator, fingerprint="checkout")
    second = _create(api_client, operator, fingerprint="checkout")
    assert second.status_code == 200
    assert second.json_body["deduplicated"] is True
    assert second.json_body["incident"]["id"] == first.json_body["incident"]["id"]


def test_create_requires_the_operator_token(api_client):
    response = api_client.http.post("/sre/incidents", headers={"Content-Type": "application/json"},
                                    body=json.dumps({"title": "x", "severity": "P1"}))
    assert response.status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"severity": "P1"}, "title"),
    ({"title": "x", "severity": "P7"}, "severity"),
    ({"title": 5, "severity": "P1"}, "title"),
    ({"title": "x" * 201, "severity": "P1"}, "title"),
    ({"title": "x", "severity": "P1", "runbook": "runbooks/nope.md"}, "runbook"),
    ({"title": "x", "severity": "P1", "runbook": "../app.py"}, "runbook"),
    ({"title": "x", "severity": "P1", "details": {"a": {"nested": 1}}}, "details"),
    # The details reach the page's "What triggered it" and the postmortem, as the title does.
    ({"title": "x", "severity": "P1", "details": {"queue": "\u202eeulav"}}, "details"),
    ({"title": "x", "severity": "P1", "details": {"\x1b[31mred": 1}}, "details"),
    ({"title": "x", "severity": "P1", "details": {"note": "x" * 501}}, "details"),
    ({"title": "x", "severity": "P1", "details": {"n" * 101: 1}}, "details"),
    ({"title": "x", "severity": "P1", "colour": "red"}, "colour"),
])
def test_bad_create_bodies_say_which_field(api_client, operator, body, field):
    response = api_client.http.post("/sre/incidents", headers=operator, body=json.dumps(body))
    assert response.status_code == 400
    assert field in response.json_body["details"]


@pytest.mark.parametrize("raw", ["not json", "[1]", ""])
def test_malformed_create_body_is_a_400(api_client, operator, raw):
    response = api_client.http.post("/sre/incidents", headers=operator, body=raw)
    assert response.status_code == 400
    assert "error" in response.json_body


def test_get_returns_the_incident_with_its_timeline(api_client, incident_id):
    response = api_client.http.get(f"/sre/incidents/{incident_id}")
    assert response.status_code == 200
    assert response.json_body["incident"]["timeline"][0]["kind"] == "triggered"


@pytest.mark.parametrize("incident_id", ["inc-0123456789abcdef", "nope", "inc-ZZZZ"])
def test_unknown_incident_is_404(api_client, incident_id):
    assert api_client.http.get(f"/sre/incidents/{incident_id}").status_code == 404


def test_list_filters_by_status_and_severity(api_client, operator, incident_id):
    _create(api_client, operator, severity="P3")
    body = api_client.http.get("/sre/incidents?severity=P1&status=triggered").json_body
    assert [item["id"] for item in body["incidents"]] == [incident_id]
    assert "timeline" not in body["incidents"][0]


def test_bad_list_filters_are_400(api_client):
    # One client for every case: each is one request, and a client costs more than its request.
    for query, field in (("status=open", "status"), ("severity=high", "severity"), ("limit=0", "limit"),
                         ("colour=red", "colour"), ("limit=%C2%B2", "limit"), ("limit=" + "9" * 5000, "limit"),
                         ("severity=", "severity"), ("status=", "status"), ("limit=", "limit"),
                         ("limit=5&limit=abc", "limit")):
        response = api_client.http.get(f"/sre/incidents?{query}")
        assert response.status_code == 400, query
        assert field in response.json_body["details"], query


def _page_through(api_client, query):
    """Every page of the list from the first on, following next_cursor: (ids, pages read)."""
    ids, pages, cursor = [], 0, None
    while True:
        response = api_client.http.get(f"/sre/incidents?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json_body
        pages += 1
        ids += [item["id"] for item in response.json_body["incidents"]]
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return ids, pages


def test_the_list_pages_through_incidents_opened_in_one_microsecond_each_once_by_id(api_client, operator):
    # The clock is frozen: every incident is opened at the same instant, so only the id orders them.
    created = [_create(api_client, operator).json_body["incident"]["id"] for _ in range(5)]
    ids, pages = _page_through(api_client, "limit=2")
    assert (ids, pages) == (sorted(created, reverse=True), 3)
    assert _page_through(api_client, "limit=5") == (ids, 1)


def test_filters_apply_on_every_page_and_a_cursor_is_for_the_filters_it_was_given_with(api_client, operator):
    minor = [_create(api_client, operator, severity="P3").json_body["incident"]["id"] for _ in range(3)]
    _create(api_client, operator, severity="P1")
    assert _page_through(api_client, "severity=P3&limit=1") == (sorted(minor, reverse=True), 3)
    cursor = api_client.http.get("/sre/incidents?severity=P3&limit=1").json_body["next_cursor"]
    response = api_client.http.get(f"/sre/incidents?severity=P1&limit=1&cursor={cursor}")
    assert response.status_code == 400
    assert "other filters" in response.json_body["details"]["cursor"][0]


def test_a_cursor_this_list_did_not_give_out_is_a_400_naming_cursor(api_client):
    for cursor in ("not-a-cursor", "A" * 5000, "%C3%A9", "%E2%80%AE", "%00", "=", "%ED%A0%80", "%FF",
                   "eyJwayI6IHsiUyI6ICJGUCNicmVha2VyIn19"):  # {"pk": {"S": "FP#breaker"}}
        response = api_client.http.get(f"/sre/incidents?limit=2&cursor={cursor}")
        assert (response.status_code, list(response.json_body["details"])) == (400, ["cursor"]), cursor


def test_ack_records_the_authenticated_operator_and_is_idempotent(api_client, operator, other_operator,
                                                                   incident_id):
    first = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator)
    second = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=other_operator)
    assert (first.status_code, first.json_body["changed"]) == (200, True)
    assert (second.status_code, second.json_body["changed"]) == (200, False)
    assert second.json_body["incident"]["acknowledged_by"] == "alice"


def test_by_in_the_body_cannot_hide_who_acted(api_client, other_operator, incident_id):
    response = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=other_operator,
                                    body=json.dumps({"by": "alice"}))
    assert response.json_body["incident"]["acknowledged_by"] == "bob (for alice)"


def test_ack_of_unknown_incident_is_404(api_client, operator):
    assert api_client.http.post("/sre/incidents/inc-0123456789abcdef/ack", headers=operator).status_code == 404


def test_ack_of_resolved_incident_is_409(api_client, operator, incident_id):
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    response = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator)
    assert response.status_code == 409
    assert "resolved" in response.json_body["error"]


def test_ack_requires_the_operator_token(api_client, incident_id):
    response = api_client.http.post(f"/sre/incidents/{incident_id}/ack",
                                    headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 403


@pytest.mark.parametrize("verb", ["ack", "mitigate", "resolve"])
def test_an_action_with_a_query_it_does_not_take_is_400_and_changes_nothing(api_client, operator, incident_id, verb):
    response = api_client.http.post(f"/sre/incidents/{incident_id}/{verb}?by=carol", headers=operator)
    assert response.status_code == 400 and response.json_body["details"] == {"by": ["Unknown query parameter."]}
    assert api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]["status"] == "triggered"


@pytest.mark.parametrize("path", ["", "/postmortem"])
def test_reading_an_incident_with_a_query_it_does_not_take_is_400(api_client, incident_id, path):
    assert api_client.http.get(f"/sre/incidents/{incident_id}{path}?format=html").status_code == 400


def test_mitigate_then_resolve(api_client, operator, incident_id):
    mitigated = api_client.http.post(f"/sre/incidents/{incident_id}/mitigate", headers=operator,
                                     body=json.dumps({"by": "alice", "note": "rolled back"}))
    resolved = api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    assert mitigated.json_body["incident"]["status"] == "mitigated"
    assert resolved.json_body["incident"]["status"] == "resolved"


def test_action_body_with_unknown_field_is_400(api_client, operator, incident_id):
    response = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator,
                                    body=json.dumps({"who": "alice"}))
    assert response.status_code == 400


def _link_path(signer, incident_id, level=2):
    url, _ = signer.link(incident_id, level)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signed_link_get_confirms_without_acknowledging(api_client, signer, incident_id):
    response = api_client.http.get(_link_path(signer, incident_id))
    assert response.status_code == 200
    assert b"<form method='post'" in response.body
    assert api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]["status"] == "triggered"


def test_signed_link_post_acknowledges_once(api_client, signer, incident_id):
    path = _link_path(signer, incident_id)
    first = api_client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"})
    second = api_client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert first.status_code == 200
    assert second.status_code == 403
    incident = api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]
    assert incident["acknowledged_by"] == "level 2 responder (page link)"


def test_a_link_whose_acknowledgement_failed_works_again(api_client, signer, incident_id, service, monkeypatch):
    path = _link_path(signer, incident_id)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    stored_transition = service._store.transition

    def store_unreachable(*args, **kwargs):
        raise ConnectionError("incidents table unreachable")

    monkeypatch.setattr(service._store, "transition", store_unreachable)
    assert api_client.http.post(path, headers=form).status_code == 500
    monkeypatch.setattr(service._store, "transition", stored_transition)
    assert api_client.http.post(path, headers=form).status_code == 200
    incident = api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]
    assert incident["acknowledged_by"] == "level 2 responder (page link)"


def test_forged_link_is_403(api_client, signer, incident_id):
    path = _link_path(signer, incident_id).replace("level=2", "level=3")
    assert api_client.http.get(path).status_code == 403
    assert api_client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 403


def test_link_signed_with_a_key_other_than_the_stored_one_is_403(api_client, clock, incident_id):
    from chalicelib.incidents.ack_links import AckLinkSigner

    forger = AckLinkSigner(lambda: b"not-the-stored-key", ttl_seconds=3600, base_url="https://api.example.test",
                           clock=lambda: clock().timestamp())
    assert api_client.http.get(_link_path(forger, incident_id)).status_code == 403


def test_expired_link_is_403(api_client, signer, clock, incident_id):
    path = _link_path(signer, incident_id)
    clock.advance(hours=2)
    response = api_client.http.get(path)
    assert response.status_code == 403
    assert "expired" in response.json_body["error"]


def test_link_without_signature_is_403(api_client, incident_id):
    assert api_client.http.get(f"/sre/incidents/{incident_id}/ack-link").status_code == 403


@pytest.mark.parametrize("field, value", [("level", "%C2%B2"), ("level", "9" * 5000), ("exp", "%C2%B2"),
                                          ("exp", "9" * 5000), ("exp", "-5")])
def test_link_with_a_number_that_is_not_ascii_digits_is_403(api_client, signer, incident_id, field, value):
    path, _, query = _link_path(signer, incident_id).partition("?")
    tampered = "&".join(f"{field}={value}" if part.startswith(f"{field}=") else part for part in query.split("&"))
    for response in (api_client.http.get(f"{path}?{tampered}"), api_client.http.post(
            f"{path}?{tampered}", headers={"Content-Type": "application/x-www-form-urlencoded"})):
        assert response.status_code == 403
        assert response.json_body["error"] == "Acknowledge link is malformed"


@pytest.mark.parametrize("details", ['{"x": NaN}', '{"x": Infinity}', '{"x": 1e999}'])
def test_non_finite_numbers_in_details_are_rejected_not_stored(api_client, operator, details):
    raw = '{"title": "Checkout errors", "severity": "P1", "details": %s}' % details
    response = api_client.http.post("/sre/incidents", headers=operator, body=raw)
    assert response.status_code == 400
    assert api_client.http.get("/sre/incidents").json_body["incidents"] == []


def test_duplicate_keys_in_an_incident_body_are_rejected(api_client, operator):
    raw = '{"title": "Checkout errors", "severity": "P1", "severity": "P4"}'
    assert api_client.http.post("/sre/incidents", headers=operator, body=raw).status_code == 400


@pytest.mark.parametrize("raw, field", [
    ('{"title": "Checkout \\ud800", "severity": "P1"}', "title"),
    ('{"title": "x", "severity": "P1", "details": {"\\udfff": 1}}', "details"),
    ('{"title": "x", "severity": "P1", "details": {"a": "\\ud83d"}}', "details"),
])
def test_a_lone_surrogate_in_an_incident_body_is_a_400_naming_the_field(api_client, operator, raw, field):
    """Valid JSON but no Unicode text: it used to be stored, or fail as a 500 where it was encoded."""
    response = api_client.http.post("/sre/incidents", headers=operator, body=raw)
    assert response.status_code == 400
    assert "lone surrogate" in response.json_body["details"][field][0]
    assert api_client.http.get("/sre/incidents").json_body["incidents"] == []


def test_a_lone_surrogate_in_an_action_note_is_a_400(api_client, operator, incident_id):
    response = api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator,
                                    body='{"note": "on it \\ud800"}')
    assert response.status_code == 400 and "note" in response.json_body["details"]
    assert api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]["status"] == "triggered"


def test_postmortem_is_markdown_with_the_timeline(api_client, other_operator, incident_id):
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=other_operator)
    response = api_client.http.get(f"/sre/incidents/{incident_id}/postmortem")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/markdown")
    text = response.body.decode()
    assert text.startswith("# Postmortem: Checkout errors")
    assert "| resolved | bob |" in text
    assert "{{" not in text


def test_communication_update_is_rendered_from_the_template(api_client, incident_id):
    response = api_client.http.get(f"/sre/incidents/{incident_id}/communications/investigating?message=Looking")
    assert response.status_code == 200
    assert response.json_body["text"].startswith("[P1] Investigating: Checkout errors")
    assert "Looking" in response.json_body["text"]


@pytest.mark.parametrize("message", ["%00", "%1B%5B31m", "line%0Dover", "%C2%9B31m", "%E2%80%AEevil"])
def test_a_communication_message_with_control_characters_is_a_400(api_client, incident_id, message):
    response = api_client.http.get(f"/sre/incidents/{incident_id}/communications/investigating?message={message}")
    assert response.status_code == 400
    assert response.json_body["details"] == {"message": [FREE_TEXT_RULE]}


@pytest.mark.parametrize("stage, needs", [("monitoring", "mitigate"), ("resolved", "resolve")])
def test_an_update_for_a_stage_the_incident_has_not_reached_is_409(api_client, incident_id, stage, needs):
    response = api_client.http.get(f"/sre/incidents/{incident_id}/communications/{stage}")
    assert response.status_code == 409
    assert "is triggered" in response.json_body["error"] and needs in response.json_body["error"]


def test_the_resolved_update_of_a_resolved_incident_says_when(api_client, operator, incident_id):
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    for stage in ("monitoring", "resolved"):
        text = api_client.http.get(f"/sre/incidents/{incident_id}/communications/{stage}").json_body["text"]
        assert "not mitigated" not in text and "as of open" not in text


def test_unknown_communication_stage_is_404(api_client, incident_id):
    assert api_client.http.get(f"/sre/incidents/{incident_id}/communications/panic").status_code == 404


def test_stats_by_severity(api_client, operator, incident_id, clock):
    clock.advance(minutes=5)
    api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator)
    clock.advance(minutes=25)
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    body = api_client.http.get("/sre/incidents/stats?window_days=1").json_body
    assert body["by_severity"]["P1"]["mtta_seconds"] == 300
    assert body["by_severity"]["P1"]["mttr_seconds"] == 1800
    assert body["by_severity"]["P0"]["incidents"] == 0


@pytest.mark.parametrize("query", ["window_days=0", "window_days=abc", "days=3", "window_days=%C2%B2",
                                   "window_days=" + "9" * 5000])
def test_bad_stats_window_is_400(api_client, query):
    assert api_client.http.get(f"/sre/incidents/stats?{query}").status_code == 400


def test_signed_link_of_a_resolved_incident_shows_no_acknowledge_button(api_client, operator, signer, incident_id):
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    response = api_client.http.get(_link_path(signer, incident_id))
    assert response.status_code == 200
    assert b"<form" not in response.body and b"nothing to acknowledge" in response.body


def test_signed_link_for_a_resolved_incident_is_409(api_client, operator, signer, incident_id):
    path = _link_path(signer, incident_id)
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    response = api_client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 409


def audit_lines(output):
    return [json.loads(line)["audit"] for line in output.splitlines()
            if line.startswith("{") and '"audit"' in line and '"message":"audit"' in line]


def test_every_incident_action_writes_an_audit_line_naming_the_operator(api_client, operator, other_operator,
                                                                         capsys):
    incident_id = _create(api_client, operator).json_body["incident"]["id"]
    api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=other_operator)
    api_client.http.post(f"/sre/incidents/{incident_id}/mitigate", headers=operator)
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=operator)
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "alice", "action": "incident.open", "target": incident_id, "outcome": "opened"},
        {"who": "bob", "action": "incident.acknowledge", "target": incident_id, "outcome": "changed"},
        {"who": "alice", "action": "incident.mitigate", "target": incident_id, "outcome": "changed"},
        {"who": "alice", "action": "incident.resolve", "target": incident_id, "outcome": "changed"},
        {"who": "alice", "action": "incident.acknowledge", "target": incident_id,
         "outcome": f"refused 409: Incident {incident_id} is resolved; it cannot be acknowledged"},
    ]


def test_the_timeline_names_the_operator_of_every_action(api_client, operator, other_operator, incident_id):
    api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers=other_operator)
    api_client.http.post(f"/sre/incidents/{incident_id}/resolve", headers=operator)
    timeline = api_client.http.get(f"/sre/incidents/{incident_id}").json_body["incident"]["timeline"]
    actors = {event["kind"]: event.get("actor") for event in timeline}
    assert (actors["triggered"], actors["acknowledged"], actors["resolved"]) == ("alice", "bob", "alice")


def test_a_refused_token_is_audited_without_a_name(api_client, incident_id, capsys):
    capsys.readouterr()
    api_client.http.post(f"/sre/incidents/{incident_id}/ack", headers={"Authorization": "Bearer wrong"})
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": "incident.acknowledge", "target": incident_id,
         "outcome": "refused 403: Operator token is not valid"}]


def test_an_acknowledge_link_is_audited_as_the_responder(api_client, signer, incident_id, capsys):
    capsys.readouterr()
    api_client.http.post(_link_path(signer, incident_id), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "level 2 responder (page link)", "action": "incident.acknowledge", "target": incident_id,
         "outcome": "changed"}]


def test_an_unreachable_incident_table_is_a_503_with_retry_after_not_a_500(api_client, wired, monkeypatch):
    from botocore.exceptions import EndpointConnectionError
    from pynamodb.exceptions import QueryError

    def unreachable(*args, **kwargs):
        raise QueryError("Failed to query items", cause=EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))

    monkeypatch.setattr(wired.incident_store, "list", unreachable)
    response = api_client.http.get("/sre/incidents")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "unavailable" in response.json_body["error"]


def test_a_percent_encoded_address_in_the_path_is_redacted_from_the_audit_line(api_client, operator, capsys):
    capsys.readouterr()
    api_client.http.post("/sre/incidents/carol%40example%2Ecom/ack", headers=operator)
    output = capsys.readouterr().out
    assert "carol" not in output and "example" not in output
    assert [line["target"] for line in audit_lines(output)] == ["[redacted-email]"]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LINK_ACTIONS = [("post", "incident.acknowledge"), ("get", "incident.acknowledge.confirm")]


def _send_link(api_client, method, path):
    if method == "post":
        return api_client.http.post(path, headers=FORM)
    return api_client.http.get(path)


@pytest.mark.parametrize("method, action", LINK_ACTIONS)
def test_a_link_with_a_bad_signature_is_audited_as_refused(api_client, incident_id, capsys, method, action):
    capsys.readouterr()
    path = f"/sre/incidents/{incident_id}/ack-link?level=1&exp=99999999999&nonce=0123456789abcdef&sig=abc"
    assert _send_link(api_client, method, path).status_code == 403
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": action, "target": incident_id,
         "outcome": "refused 403: Acknowledge link signature is not valid"}]


@pytest.mark.parametrize("method, action", LINK_ACTIONS)
def test_a_malformed_link_is_audited_as_refused(api_client, signer, incident_id, capsys, method, action):
    path = _link_path(signer, incident_id).replace("level=2", "level=%C2%B2")
    capsys.readouterr()
    assert _send_link(api_client, method, path).status_code == 403
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": action, "target": incident_id,
         "outcome": "refused 403: Acknowledge link is malformed"}]


@pytest.mark.parametrize("method, action", LINK_ACTIONS)
def test_an_expired_link_is_audited_as_refused(api_client, signer, clock, incident_id, capsys, method, action):
    path = _link_path(signer, incident_id)
    clock.advance(hours=2)
    capsys.readouterr()
    assert _send_link(api_client, method, path).status_code == 403
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": action, "target": incident_id,
         "outcome": "refused 403: Acknowledge link has expired; acknowledge with "
                    f"POST /sre/incidents/{incident_id}/ack"}]


@pytest.mark.parametrize("method, action", LINK_ACTIONS)
def test_an_incomplete_link_is_audited_as_refused(api_client, incident_id, capsys, method, action):
    capsys.readouterr()
    assert _send_link(api_client, method, f"/sre/incidents/{incident_id}/ack-link?level=1").status_code == 403
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "unauthenticated", "action": action, "target": incident_id,
         "outcome": "refused 403: Acknowledge link is incomplete: missing exp, nonce, sig"}]


def test_a_used_link_used_again_is_audited_as_refused_to_its_responder(api_client, signer, incident_id, capsys):
    path = _link_path(signer, incident_id)
    api_client.http.post(path, headers=FORM)
    capsys.readouterr()
    assert api_client.http.post(path, headers=FORM).status_code == 403
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "level 2 responder (page link)", "action": "incident.acknowledge", "target": incident_id,
         "outcome": "refused 403: This acknowledge link has already been used"}]


def test_a_used_link_opened_again_is_403_not_a_button_its_post_would_refuse(api_client, signer, incident_id):
    path = _link_path(signer, incident_id)
    assert api_client.http.post(path, headers=FORM).status_code == 200
    opened = api_client.http.get(path)
    assert opened.status_code == 403 and "already been used" in opened.body.decode()


def test_a_link_whose_acknowledgement_failed_is_audited_as_failed(api_client, signer, incident_id, service,
                                                                   monkeypatch, capsys):
    def store_unreachable(*args, **kwargs):
        raise ConnectionError("incidents table unreachable")

    monkeypatch.setattr(service._store, "transition", store_unreachable)
    capsys.readouterr()
    assert api_client.http.post(_link_path(signer, incident_id), headers=FORM).status_code == 500
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "level 2 responder (page link)", "action": "incident.acknowledge", "target": incident_id,
         "outcome": "failed: ConnectionError"}]


def test_a_link_opened_with_get_is_audited_as_shown(api_client, signer, incident_id, capsys):
    capsys.readouterr()
    assert api_client.http.get(_link_path(signer, incident_id)).status_code == 200
    assert audit_lines(capsys.readouterr().out) == [
        {"who": "level 2 responder (page link)", "action": "incident.acknowledge.confirm", "target": incident_id,
         "outcome": "confirmation shown"}]


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_refused_link_on_a_percent_encoded_address_is_audited_with_the_address_redacted(api_client, capsys,
                                                                                          method):
    capsys.readouterr()
    path = "/sre/incidents/carol%40example%2Ecom/ack-link?level=1&exp=99999999999&nonce=0123456789abcdef&sig=abc"
    assert _send_link(api_client, method, path).status_code == 403
    output = capsys.readouterr().out
    assert "carol" not in output and "example" not in output
    assert [line["target"] for line in audit_lines(output)] == ["[redacted-email]"]
