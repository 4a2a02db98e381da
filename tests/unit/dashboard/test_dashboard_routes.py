"""The dashboard's routes: the document, the page under a strict CSP, and its files."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from chalicelib.dashboard import assets

VENDOR = Path(assets.STATIC) / "vendor" / "chartjs"


@pytest.fixture
def client(dashboard_wiring):
    from chalice.test import Client

    import app as application

    with Client(application.app) as test_client:
        yield test_client


def test_the_document_is_served_as_json(stored, client):
    response = client.http.get("/sre/dashboard")
    assert response.status_code == 200
    body = json.loads(response.body)
    assert body["generated_at"] == "2026-12-01T12:15:00Z"
    assert body["slos"]["status"] == "ok"


def test_an_unknown_query_parameter_is_a_400_saying_which(client):
    response = client.http.get("/sre/dashboard?window=1h")
    assert response.status_code == 400
    assert "window" in json.loads(response.body)["details"]


def test_the_page_is_served_under_a_csp_without_inline_script_or_style(client):
    response = client.http.get("/sre/dashboard-ui")
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'none'" in policy


def test_the_page_has_no_inline_script_style_or_handlers():
    page = (Path(assets.STATIC) / "dashboard.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)


@pytest.mark.parametrize("name,content_type", [
    ("dashboard.js", "text/javascript"), ("dashboard.css", "text/css"), ("chart.umd.min.js", "text/javascript"),
    ("chartjs-LICENSE.md", "text/markdown")])
def test_each_asset_is_served_with_its_content_type(client, name, content_type):
    response = client.http.get(f"/sre/dashboard-ui/assets/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["dashboard.html", "..%2Fservice.py", "vendor", "nope.js"])
def test_a_name_not_listed_is_a_404_never_a_file_on_disk(client, name):
    response = client.http.get(f"/sre/dashboard-ui/assets/{name}")
    assert response.status_code == 404
    assert json.loads(response.body)["error"].startswith("No dashboard asset")


def _manifest():
    return json.loads((VENDOR / "VENDOR.json").read_text())


def test_the_vendored_chart_library_matches_its_pinned_checksums():
    for name, entry in _manifest()["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == entry["sha256"], name


def test_the_page_loads_the_chart_library_with_the_pinned_subresource_integrity():
    entry = _manifest()["files"]["chart.umd.min.js"]
    digest = base64.b64encode(hashlib.sha384((VENDOR / "chart.umd.min.js").read_bytes()).digest()).decode()
    assert entry["sri"] == f"sha384-{digest}"
    page = (Path(assets.STATIC) / "dashboard.html").read_text()
    assert f'src="/sre/dashboard-ui/assets/chart.umd.min.js" integrity="{entry["sri"]}"' in page


def test_the_chart_library_ships_with_its_licence_and_version():
    manifest = _manifest()
    assert manifest["license"] == "MIT" and "MIT License" in (VENDOR / "LICENSE.md").read_text()
    assert f"Chart.js v{manifest['version']}" in (VENDOR / "chart.umd.min.js").read_text()[:200]


def test_every_listed_asset_exists():
    for relative, _ in assets.ASSETS.values():
        assert (Path(assets.STATIC) / relative).is_file(), relative
