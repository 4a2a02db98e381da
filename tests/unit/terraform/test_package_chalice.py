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


def test_the_staged_requirements_leave_out_chalice_and_the_runtime_provided_sdk(packager):
    text = "# runtime\nchalice==1.34.0\nboto3==1.44.8\nbotocore==1.44.8\npynamodb==6.1.0\nPyYAML==6.0.4  # slos\n"
    kept = packager.runtime_requirements(text)
    assert kept.splitlines() == ["# runtime", "pynamodb==6.1.0", "PyYAML==6.0.4  # slos"]


def test_runtime_provided_modules_are_dropped_from_the_package(packager, tmp_path):
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for name in ("app.py", "boto3/__init__.py", "botocore/data/x.json", "s3transfer/manager.py",
                     "boto3-1.44.8.dist-info/RECORD", "botocore_stubs/x.py", "pynamodb/models.py"):
            archive.writestr(name, "x")

    dropped = packager.drop_runtime_provided(package)

    assert sorted(dropped) == ["boto3-1.44.8.dist-info/RECORD", "boto3/__init__.py", "botocore/data/x.json",
                               "s3transfer/manager.py"]
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["app.py", "botocore_stubs/x.py", "pynamodb/models.py"]


def test_the_staged_project_holds_only_what_the_lambda_runs(packager, repo_root, tmp_path):
    staged = packager.stage_project(repo_root, tmp_path / "staged", "prod")
    assert sorted(p.name for p in staged.iterdir()) == [".chalice", "app.py", "chalicelib", "requirements.txt"]
    config = json.loads((staged / ".chalice" / "config.json").read_text())
    assert config["stages"]["prod"]["manage_iam_role"] is False
    assert not list(staged.rglob("__pycache__"))
