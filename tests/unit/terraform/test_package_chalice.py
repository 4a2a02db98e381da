"""scripts/package_chalice.py: the API document and the Lambda package."""
from __future__ import annotations

import importlib.util
import json
import zipfile

import pytest
from chalice import Chalice


@pytest.fixture(scope="module")
def packager(repo_root):
    spec = importlib.util.spec_from_file_location("package_chalice", repo_root / "scripts" / "package_chalice.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_app():
    app = Chalice(app_name="serverless-sre")

    @app.route("/health")
    def health():
        """Liveness ${not_a_template} %{neither}."""
        return {}

    @app.route("/api/users/{user_id}", methods=["GET", "DELETE"])
    def user(user_id):
        return {}

    return app


def test_every_route_and_method_is_in_the_api_document(packager, small_app):
    document = packager.api_definition(small_app)
    assert set(document["paths"]) == {"/health", "/api/users/{user_id}"}
    assert set(document["paths"]["/api/users/{user_id}"]) == {"get", "delete"}


def test_integrations_carry_the_invoke_arn_token(packager, small_app):
    document = packager.api_definition(small_app)
    uris = {op["x-amazon-apigateway-integration"]["uri"]
            for methods in document["paths"].values() for op in methods.values()}
    assert uris == {packager.INVOKE_ARN_TOKEN}


def test_the_real_app_routes_are_all_in_its_api_document(packager, repo_root):
    app = packager.load_app(repo_root)
    document = packager.api_definition(app)
    for path, methods in app.routes.items():
        assert set(document["paths"][path]) >= {m.lower() for m in methods}


def test_api_document_is_written_as_json(packager, small_app, tmp_path):
    path = packager.write_api_definition(small_app, tmp_path / "out" / "api.json")
    assert json.loads(path.read_text())["info"]["title"] == "serverless-sre"


def test_runtime_directories_are_added_to_the_package(packager, tmp_path):
    project = tmp_path / "project"
    (project / "functions" / "__pycache__").mkdir(parents=True)
    (project / "functions" / "probe.py").write_text("def handler(event, context): pass\n")
    (project / "functions" / "__pycache__" / "probe.cpython-311.pyc").write_bytes(b"x")
    (project / "slos").mkdir()
    (project / "slos" / "latency.yaml").write_text("kind: SLO\n")
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "app = None\n")

    added = packager.add_runtime_paths(package, project)

    assert sorted(added) == ["functions/probe.py", "slos/latency.yaml"]
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["app.py", "functions/probe.py", "slos/latency.yaml"]


def test_adding_runtime_directories_twice_adds_nothing_new(packager, tmp_path):
    project = tmp_path / "project"
    (project / "functions").mkdir(parents=True)
    (project / "functions" / "probe.py").write_text("x = 1\n")
    package = tmp_path / "deployment.zip"
    zipfile.ZipFile(package, "w").close()
    packager.add_runtime_paths(package, project)

    assert packager.add_runtime_paths(package, project) == []
