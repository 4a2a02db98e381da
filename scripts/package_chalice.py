"""Build what the serverless Terraform stack deploys, from the Chalice app.

Writes into ``--out`` (default ``build/lambda``):

- ``api.json``: the API Gateway Swagger document generated from the app's
  route table by Chalice's own generator, with ``@@API_HANDLER_INVOKE_ARN@@``
  where each Lambda integration URI goes (Terraform substitutes the function's
  invoke ARN). Chalice has no greedy routes, so every path is listed.
- ``deployment.zip`` (unless ``--api-only``): ``chalice package``'s Lambda
  package (app.py, chalicelib/, the Linux wheels of requirements.txt) plus the
  top-level runtime directories Chalice does not package (functions/, slos/,
  runbooks/, statemachines/).

We take only these two artefacts from Chalice, not its generated
``chalice.tf.json``: that file pins Terraform < 1.4 and aws < 5 and needs the
``null`` provider, while our stack (terraform/stacks/serverless) owns every
resource itself.

Usage: python scripts/package_chalice.py [--project-dir .] [--out build/lambda]
       [--stage prod] [--api-only]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable

INVOKE_ARN_TOKEN = "@@API_HANDLER_INVOKE_ARN@@"
RUNTIME_PATHS = ("functions", "slos", "runbooks", "statemachines")
# Same fixed timestamp chalice uses, so an unchanged tree gives the same hash.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}


def load_app(project_dir: Path) -> Any:
    """Import ``app.py`` of ``project_dir`` and return its Chalice ``app``."""
    project_dir = project_dir.resolve()
    # Chalice blueprints cannot be registered on a second app (their methods are lost), so
    # app.py runs at most once per process: imported as the module ``app``, then reused.
    loaded = sys.modules.get("app")
    if loaded is None:
        sys.path.insert(0, str(project_dir))
        try:
            loaded = importlib.import_module("app")
        finally:
            sys.path.remove(str(project_dir))
    if Path(getattr(loaded, "__file__", "")).resolve() != project_dir / "app.py":
        raise RuntimeError(f"this process already imported app from {loaded.__file__}, not {project_dir}")
    return loaded.app


def api_definition(app: Any) -> dict[str, Any]:
    """The Swagger document of ``app`` with tokenised integration URIs."""
    from chalice.deploy.swagger import SwaggerGenerator

    class TokenisedSwaggerGenerator(SwaggerGenerator):
        def __init__(self) -> None:  # the base needs no region or deployed resources here
            pass

        def _uri(self, lambda_arn: Any = None) -> str:
            return INVOKE_ARN_TOKEN

        def _auth_uri(self, authorizer: Any) -> str:
            raise ValueError(f"authorizer {authorizer.name!r}: the Terraform stack deploys no authorizer functions")

    return TokenisedSwaggerGenerator().generate_swagger(app)


def write_api_definition(app: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(api_definition(app), indent=2, sort_keys=True) + "\n")
    return path


def _runtime_files(project_dir: Path, names: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        root = project_dir / name
        candidates = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        files.extend(p for p in candidates
                     if p.is_file() and not SKIPPED_PARTS.intersection(p.parts) and p.suffix != ".pyc")
    return files


def add_runtime_paths(zip_path: Path, project_dir: Path, names: Iterable[str] = RUNTIME_PATHS) -> list[str]:
    """Append the runtime directories Chalice does not package; returns the archive names."""
    added: list[str] = []
    with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        for file in _runtime_files(project_dir, names):
            arcname = file.relative_to(project_dir).as_posix()
            if arcname in present:
                continue
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
            added.append(arcname)
    return added


def chalice_package(project_dir: Path, out_dir: Path, stage: str) -> Path:
    """Run ``chalice package`` and keep its deployment.zip."""
    if not (project_dir / ".chalice" / "config.json").is_file():
        raise SystemExit(f"{project_dir}/.chalice/config.json is missing: chalice package needs it")
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # chalice wants a region even to package
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())",
             "--project-dir", str(project_dir), "package", "--stage", stage, "--pkg-format", "terraform", tmp],
            check=True, env=env,
        )
        target = out_dir / "deployment.zip"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((Path(tmp) / "deployment.zip").read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--out", type=Path, default=None, help="output directory (default <project>/build/lambda)")
    parser.add_argument("--stage", default="prod", help="chalice stage to package")
    parser.add_argument("--api-only", action="store_true", help="write api.json only (fast, no zip)")
    args = parser.parse_args(argv)
    project_dir = args.project_dir.resolve()
    out_dir = (args.out or project_dir / "build" / "lambda").resolve()

    api_path = write_api_definition(load_app(project_dir), out_dir / "api.json")
    print(f"wrote {api_path}")
    if not args.api_only:
        zip_path = chalice_package(project_dir, out_dir, args.stage)
        added = add_runtime_paths(zip_path, project_dir)
        print(f"wrote {zip_path} (+{len(added)} runtime files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
