"""Build what the serverless Terraform stack deploys, from the Chalice app.

Writes into ``--out`` (default ``build/lambda``):

- ``api.json``: the API Gateway Swagger document generated from the app's
  route table by Chalice's own generator, with ``@@API_HANDLER_INVOKE_ARN@@``
  where each Lambda integration URI goes (Terraform substitutes the function's
  invoke ARN). Chalice has no greedy routes, so every path is listed.
- ``deployment.zip`` (unless ``--api-only``): ``chalice package``'s Lambda
  package (app.py, chalicelib/, the Linux wheels of requirements.txt) plus the
  top-level runtime directories Chalice does not package (functions/, slos/,
  runbooks/, statemachines/). boto3, botocore and s3transfer are left out: the
  Lambda runtime provides them, and they are most of the package's size.

Chalice packages a staged copy of the project (``<out>/../chalice-project``):
only what the Lambda runs (app.py, chalicelib/, the runtime requirements), so
local-only code (devstack/) and tests never reach the package, and Chalice's
wheel cache in its ``.chalice/deployments`` survives between builds.

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
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable

INVOKE_ARN_TOKEN = "@@API_HANDLER_INVOKE_ARN@@"
RUNTIME_PATHS = ("functions", "slos", "runbooks", "statemachines", "experiments")
# What Chalice packages from the project directory; everything else stays out of the Lambda.
CHALICE_PROJECT_PATHS = ("app.py", "chalicelib")
# Provided by the Lambda Python runtime; pynamodb and aws-xray-sdk still pull botocore in as a dependency.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Chalice cherry-picks its own runtime (chalice/app.py) into the package; installing the
# chalice requirement would add its CLI dependencies (click, inquirer, ...) as well.
NOT_INSTALLED = ("chalice",) + RUNTIME_PROVIDED
# The Terraform stack owns the functions' role. With autogen_policy false Chalice wants a
# policy file to describe a role it would manage, so the staged config says it manages none;
# the role ARN below is never deployed (we keep no chalice.tf.json).
STAGED_STAGE_CONFIG = {"manage_iam_role": False,
                       "iam_role_arn": "arn:aws:iam::000000000000:role/owned-by-terraform"}
MAX_PACKAGE_BYTES = 10 * 1024 * 1024
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


def _requirement_name(line: str) -> str:
    return re.split(r"[\s=<>!~\[;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def runtime_requirements(text: str) -> str:
    """requirements.txt without what the package must not install (see NOT_INSTALLED)."""
    kept = [line for line in text.splitlines()
            if not line.strip() or line.lstrip().startswith("#") or _requirement_name(line) not in NOT_INSTALLED]
    return "\n".join(kept) + "\n"


def stage_project(project_dir: Path, staged: Path, stage: str) -> Path:
    """Copy what Chalice packages into ``staged`` (kept: its .chalice/deployments is Chalice's cache)."""
    config_path = project_dir / ".chalice" / "config.json"
    if not config_path.is_file():
        raise SystemExit(f"{config_path} is missing: chalice package needs it")
    config = json.loads(config_path.read_text())
    config.setdefault("stages", {}).setdefault(stage, {}).update(STAGED_STAGE_CONFIG)
    for name in CHALICE_PROJECT_PATHS:
        target = staged / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = project_dir / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SKIPPED_PARTS, "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (staged / ".chalice").mkdir(parents=True, exist_ok=True)
    (staged / ".chalice" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (staged / "requirements.txt").write_text(
        runtime_requirements((project_dir / "requirements.txt").read_text()))
    return staged


def _runtime_provided(arcname: str) -> bool:
    top = arcname.split("/", 1)[0].lower()
    distribution = top.split("-", 1)[0] if top.endswith((".dist-info", ".egg-info")) else top
    return distribution.replace("_", "-") in RUNTIME_PROVIDED


def drop_runtime_provided(zip_path: Path) -> list[str]:
    """Rewrite the package without the modules the Lambda runtime provides; returns what was dropped."""
    kept = zip_path.with_suffix(".tmp")
    dropped: list[str] = []
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(kept, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if _runtime_provided(info.filename):
                dropped.append(info.filename)
            else:
                target.writestr(info, source.read(info))
    kept.replace(zip_path)
    return dropped


def chalice_package(project_dir: Path, out_dir: Path, stage: str) -> Path:
    """Run ``chalice package`` on a staged copy of the project and keep its deployment.zip."""
    project_dir = stage_project(project_dir, out_dir.parent / "chalice-project", stage)
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
        dropped = drop_runtime_provided(zip_path)
        added = add_runtime_paths(zip_path, project_dir)
        size = zip_path.stat().st_size
        print(f"wrote {zip_path} (+{len(added)} runtime files, {len(dropped)} runtime-provided files left out)")
        print(f"Lambda package size: {size / 1024 / 1024:.2f} MB ({size} bytes; limit "
              f"{MAX_PACKAGE_BYTES // 1024 // 1024} MB)")
        if size > MAX_PACKAGE_BYTES:
            print("error: the Lambda package is over the limit", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
