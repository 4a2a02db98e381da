"""The dashboard page in real headless Chromium (Debian's package, driven by Playwright) against the
local stack, after real traffic, one incident, one chaos experiment (started and stopped over
HTTP) and one ticket: charts render, every figure on the page equals the document, acknowledge
works from the page by keyboard, no console error or CSP violation.

Screenshots at desktop and phone width go to build/test-output/dashboard/ (linked from the README).
The test fails, never skips, when the browser is missing: `make test` installs it.
It runs the SLO evaluator up to the current minute, so it is named to run after test_incidents.py,
whose alert test backfills minutes an earlier evaluator run would already have closed.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
# Lambda variant only: the SRE plane is the same in both variants.
LAMBDA_ONLY = pytest.mark.parametrize("stack", ["lambda"], indirect=True)

CHROMIUM = "/usr/bin/chromium"
# As the machine's own browser checks run it: no sandbox as root, and nothing that reaches out.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "build" / "test-output" / "dashboard"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _resolve(document, path):
    value = document
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@pytest.fixture(scope="module")
def incident(stack):
    """Real traffic (users created and listed, client errors), one incident, then an evaluator run."""
    for index in range(6):
        response = stack.http.post(stack.url("/api/users"), json={"name": f"Dash {index}",
                                                                  "email": f"dash-{index}@example.com"})
        assert response.status_code == 201, response.text
    for _ in range(20):
        assert stack.http.get(stack.url("/api/users")).status_code == 200
    for _ in range(3):
        assert stack.http.get(stack.url("/api/users/not-a-user-id")).status_code in (400, 404)
    opened = stack.http.post(stack.url("/sre/incidents"), headers=stack.operator_headers(), json={
        "title": "Dashboard check: elevated errors", "severity": "P2", "summary": "opened by the browser test"})
    assert opened.status_code == 201, opened.text
    now = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert stack.fire("slo-evaluator", {"now": now.isoformat()})["errors"] == []
    stack.flush_metrics()
    return opened.json()["incident"]


@pytest.fixture(scope="module")
def experiment(stack):
    """A real experiment: started over HTTP (a 1 ms delay on 1% of a route no test reads), stopped at once."""
    from chalicelib.chaos.definition import catalog_entry

    definition = catalog_entry("route-latency")
    definition.update(title="Dashboard check: a stopped experiment", duration_seconds=30, recovery_seconds=30)
    definition["method"][0]["fault"].update(target="/health/live", magnitude=1, blast_radius_pct=1)
    headers = stack.operator_headers()
    started = stack.http.post(stack.url("/sre/chaos/experiments"), headers=headers, json={"definition": definition})
    assert started.status_code == 202, started.text
    record = started.json()
    if record["status"] == "running":
        stopped = stack.http.post(stack.url(f"/sre/chaos/experiments/{record['id']}/stop"), headers=headers)
        assert stopped.status_code in (200, 409), stopped.text  # 409: it had finished (refused) meanwhile
    record = stack.http.get(stack.url(f"/sre/chaos/experiments/{record['id']}"), headers=headers).json()
    assert record["status"] != "running", record
    return record


@pytest.fixture(scope="module")
def ticket(stack):
    """One ticket in the stack's incidents table, as the SLO engine's ticket tier opens it. No route
    opens tickets and a real ticket tier needs days of slow burn, so the ticket store writes it."""
    from chalicelib.incidents.tickets import DynamoDBTicketStore, Ticket, ticket_model
    from devstack.resources import definitions
    from tests.support.golden import golden

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", stack.aws_endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(name, "local")
        store = DynamoDBTicketStore(ticket_model(definitions("tables")["incidents"]["default_name"], "us-east-1"))
        opened = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        created, _ = store.create(Ticket.from_json({**golden("ticket"), "opened_at": opened, "incident_id": None}))
    return created.to_json()


@pytest.fixture(scope="module")
def browser_context():
    assert Path(CHROMIUM).is_file(), (
        f"{CHROMIUM} is missing: `make test` installs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=DESKTOP)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda response: problems.append(f"{response.status} from {response.url}")
            if response.status >= 400 else None)
    page.problems = problems
    yield page
    page.close()


def _open(page, stack):
    with page.expect_response(lambda response: response.url.endswith("/sre/dashboard")) as answer:
        page.goto(stack.url("/sre/dashboard-ui"))
    document = answer.value.json()
    page.wait_for_selector(f'body[data-generated-at="{document["generated_at"]}"]')
    return document


@LAMBDA_ONLY
def test_the_page_shows_the_document_with_charts_and_no_console_errors(stack, incident, experiment, ticket, page):
    document = _open(page, stack)
    figures = page.eval_on_selector_all("[data-figure]", "nodes => nodes.map(n => [n.dataset.figure, n.dataset.value])")
    assert len(figures) > 50
    mismatched = [(path, shown) for path, shown in figures if json.loads(shown) != _resolve(document, path)]
    assert not mismatched
    shown_paths = {path for path, _ in figures}
    assert {"incidents.stats.all.mtta_seconds", "health.status", "latency.windows.1h.valid_requests",
            "business.users_registered.1h"} <= shown_paths
    success = next(index for index, item in enumerate(document["slos"]["items"]) if item["name"] == "success")
    assert f"slos.items.{success}.budget.remaining_ratio" in shown_paths
    # The incident opened above is listed with its button; the users registered above are counted.
    assert page.locator(f'button.ack[data-incident="{incident["id"]}"]').count() == 1
    assert document["business"]["users_registered"]["1h"] >= 6
    # The ticket and the experiment, each as stored, with its figures on the page.
    assert ticket in document["tickets"]["open"]
    assert page.locator(f'tr[data-ticket-row="{ticket["id"]}"]').count() == 1
    assert {"tickets.summary.open", "tickets.open.0.title", "business.computed_at",
            "experiments.summary.shown"} <= shown_paths
    [shown] = [item for item in document["experiments"]["recent"] if item["id"] == experiment["id"]]
    assert (shown["status"], shown["reason"], shown["timeline"]) == (
        experiment["status"], experiment["reason"], experiment["timeline"])
    card = page.locator(f'article[data-experiment="{experiment["id"]}"]')
    assert card.count() == 1 and experiment["reason"] in card.inner_text()

    charts = page.evaluate("""() => Array.from(document.querySelectorAll('canvas')).map(canvas => {
        const chart = window.Chart.getChart(canvas);
        return {id: canvas.id, drawn: !!chart && canvas.width > 0 && canvas.height > 0,
                points: chart ? chart.data.labels.length : -1, expected: Number(canvas.dataset.points)};
    })""")
    ids = {chart["id"] for chart in charts}
    assert {"chart-latency", "chart-burndown-success", "chart-sli-success", "chart-burn-success"} <= ids
    assert all(chart["drawn"] and chart["points"] == chart["expected"] for chart in charts), charts
    latency = next(chart for chart in charts if chart["id"] == "chart-latency")
    assert latency["points"] == len(document["latency"]["windows"]["1h"]["bands"])

    assert page.evaluate("document.querySelectorAll('[data-section-state=\"failed\"]').length") == 0
    assert not page.problems, page.problems

    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # charts resize on the next frame
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(OUTPUT / "dashboard-phone.png"), full_page=True)
    assert not page.problems, page.problems


@LAMBDA_ONLY
def test_an_slo_without_requests_shows_no_requests_yet_instead_of_a_budget(stack, incident, page):
    """The page's side of an unknown budget. Which of the stack's SLOs have had requests depends on the
    e2e modules that ran before on the shared stack (a probe run gives the probe SLO some), so the real
    document is answered with one evaluated SLO as the API gives an SLO without requests
    (tests/unit/dashboard checks the API's side against the golden snapshot)."""
    chosen = {}

    def without_requests(route):
        document = route.fetch().json()
        item = next(item for item in document["slos"]["items"] if item["evaluated"])
        item["budget"].update(remaining_ratio=None, unknown_reason="no requests in the SLO's period yet")
        for window in item["windows"].values():
            window.update(sli=None, budget_remaining_ratio=None)
        chosen["name"] = item["name"]
        route.fulfill(json=document)

    page.route("**/sre/dashboard", without_requests)
    _open(page, stack)
    card = page.locator(f'article[data-slo="{chosen["name"]}"]').inner_text()
    assert "Budget remaining\nno requests yet" in card, card
    assert "no requests in the SLO's period yet" in card
    assert not page.problems, page.problems


@LAMBDA_ONLY
def test_an_experiment_journal_opens_by_keyboard(stack, experiment, page):
    _open(page, stack)
    summary = page.locator(f'article[data-experiment="{experiment["id"]}"] details summary')
    summary.focus()
    page.keyboard.press("Enter")
    journal = page.locator(f'article[data-experiment="{experiment["id"]}"] details ol li')
    assert journal.count() == len(experiment["timeline"]) and journal.first.is_visible()
    assert not page.problems, page.problems


@LAMBDA_ONLY
def test_acknowledge_works_from_the_page_by_keyboard(stack, incident, page):
    _open(page, stack)
    page.focus("#token")
    page.keyboard.type(stack.operator_token)
    page.keyboard.press("Enter")
    assert page.evaluate("sessionStorage.getItem('sre-operator-token')") == stack.operator_token
    assert page.input_value("#token") == ""  # not left in the form
    page.focus(f'button.ack[data-incident="{incident["id"]}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#ack-result:has-text('Acknowledged')")
    stored = stack.http.get(stack.url(f"/sre/incidents/{incident['id']}")).json()["incident"]
    assert stored["status"] == "acknowledged" and stored["acknowledged_by"]
    # The page reloaded the document: the incident shows acknowledged, without its button.
    page.wait_for_selector(f'tr[data-incident-row="{incident["id"]}"] .status-acknowledged')
    assert page.locator(f'button.ack[data-incident="{incident["id"]}"]').count() == 0
    assert not page.problems, page.problems


def _refused_acknowledge(stack, page, kept_token):
    """Open an incident, keep ``kept_token`` for the tab (None: none), press its Acknowledge button."""
    opened = stack.http.post(stack.url("/sre/incidents"), headers=stack.operator_headers(), json={
        "title": f"Dashboard check: token {kept_token}", "severity": "P3"})
    assert opened.status_code == 201
    incident_id = opened.json()["incident"]["id"]
    _open(page, stack)
    if kept_token is None:
        page.evaluate("sessionStorage.removeItem('sre-operator-token')")
    else:
        page.evaluate("token => sessionStorage.setItem('sre-operator-token', token)", kept_token)
    page.click(f'button.ack[data-incident="{incident_id}"]')
    return incident_id


@LAMBDA_ONLY
def test_acknowledge_without_a_token_asks_for_one_and_changes_nothing(stack, page):
    incident_id = _refused_acknowledge(stack, page, None)
    page.wait_for_selector("#ack-result:has-text('Enter the operator token first')")
    assert page.evaluate("document.activeElement.id") == "token"
    assert stack.http.get(stack.url(f"/sre/incidents/{incident_id}")).json()["incident"]["status"] == "triggered"
    assert not page.problems, page.problems


@LAMBDA_ONLY
def test_acknowledge_with_a_wrong_token_shows_the_reason_and_changes_nothing(stack, page):
    incident_id = _refused_acknowledge(stack, page, "not-the-operator-token")
    page.wait_for_selector("#ack-result:has-text('Acknowledge failed (403): Operator token is not valid')")
    assert stack.http.get(stack.url(f"/sre/incidents/{incident_id}")).json()["incident"]["status"] == "triggered"
    assert [problem for problem in page.problems if "403" not in problem] == []


# As deployed (SRE_READS_REQUIRE_TOKEN on): the page loads, says a token is needed, and shows the
# figures once a viewer's token is kept for the tab. The stack is Schemathesis' (reads only here).
def _forbidden_reads(page):
    """What the page fixture saw besides the refused reads of the document (401 answers, and the
    browser's console line for each)."""
    return [problem for problem in page.problems
            if not (problem.startswith("401 from ") and problem.endswith("/sre/dashboard"))
            and "status of 401" not in problem]


def test_with_reads_closed_the_page_without_a_token_says_one_is_needed(closed_reads_stack, page):
    page.goto(closed_reads_stack.url("/sre/dashboard-ui"))
    page.wait_for_selector("#load-error:not([hidden])")
    message = page.inner_text("#load-error")
    assert "viewer or operator token" in message and "Traceback" not in page.content()
    assert page.locator("[data-figure]").count() == 0
    assert page.evaluate("document.activeElement.id") == "token"
    assert any(problem.startswith("401 from ") for problem in page.problems) and not _forbidden_reads(page)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard-token-needed.png"))


def test_with_reads_closed_the_page_shows_the_figures_with_the_viewer_token(closed_reads_stack, page):
    page.goto(closed_reads_stack.url("/sre/dashboard-ui"))
    page.wait_for_selector("#load-error:not([hidden])")
    page.focus("#token")
    page.keyboard.type(closed_reads_stack.viewer_token)
    with page.expect_response(lambda response: response.url.endswith("/sre/dashboard")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    document = answer.value.json()
    page.wait_for_selector(f'body[data-generated-at="{document["generated_at"]}"]')
    figures = page.eval_on_selector_all("[data-figure]", "nodes => nodes.map(n => [n.dataset.figure, n.dataset.value])")
    assert {"health.status", "breakers.items.0.state"} <= {path for path, _ in figures}
    assert [(path, shown) for path, shown in figures if json.loads(shown) != _resolve(document, path)] == []
    assert page.is_hidden("#load-error") and not _forbidden_reads(page)
