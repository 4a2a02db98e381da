"""`python -m container.healthcheck`: the image's HEALTHCHECK, GET /health/live on the local server.

The slim image has no curl; this exits 0 on a 200 and 1 otherwise.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

PATH = "/health/live"


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8080')}{PATH}"
    try:
        timeout = float(os.environ.get("HEALTHCHECK_TIMEOUT_SECONDS", "2"))
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # nosec B310 - always http://127.0.0.1
            return 0 if reply.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
