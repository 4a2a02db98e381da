"""The dashboard page's files, shipped inside chalicelib (so in the Lambda package) and served
from a fixed list: a name not listed is a 404, never a path on disk."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

STATIC = Path(__file__).with_name("static")
# name in the URL -> (file under static/, content type)
ASSETS = {
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "chart.umd.min.js": ("vendor/chartjs/chart.umd.min.js", "text/javascript; charset=utf-8"),
    "chartjs-LICENSE.md": ("vendor/chartjs/LICENSE.md", "text/markdown; charset=utf-8"),
}


@lru_cache(maxsize=None)
def _read(relative: str) -> str:
    return (STATIC / relative).read_text(encoding="utf-8")


def page() -> tuple[str, str]:
    return _read("dashboard.html"), "text/html; charset=utf-8"


def asset(name: str) -> Optional[tuple[str, str]]:
    entry = ASSETS.get(name)
    if entry is None:
        return None
    relative, content_type = entry
    return _read(relative), content_type
