"""Lambda package size: what `make package` builds, against the 10 MB target (boto3 is the runtime's).

Run: `python -m bench.lambda_package` (builds build/lambda/ as `make package` does).
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

from bench._figures import record

ROOT = Path(__file__).resolve().parent.parent
TARGET_BYTES = 10 * 1024 * 1024


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "package_chalice.py")], cwd=ROOT, check=True,
                   capture_output=True)
    package = ROOT / "build" / "lambda" / "deployment.zip"
    size = package.stat().st_size
    with zipfile.ZipFile(package) as archive:
        by_top = Counter()
        for info in archive.infolist():
            by_top[info.filename.split("/")[0]] += info.compress_size
    print(f"Lambda package {package.relative_to(ROOT)}, without boto3/botocore/s3transfer (the runtime's)")
    print("  largest parts: " + ", ".join(f"{name} {size_ / 1024:.0f} KB" for name, size_ in by_top.most_common(5)))
    print(f"  size {size / 1024 / 1024:.2f} MB vs target 10 MB: ratio {size / TARGET_BYTES:.2f} "
          f"({'met' if size < TARGET_BYTES else 'NOT met'})")
    record("lambda_package", megabytes=round(size / 1024 / 1024, 2), ratio=round(size / TARGET_BYTES, 3),
           met=size < TARGET_BYTES)
    return 0 if size < TARGET_BYTES else 1


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.lambda_package", __doc__, main))
