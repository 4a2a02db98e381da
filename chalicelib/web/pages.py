"""The HTML front page of the original service: the users, newest first, and a form."""
from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any, Mapping, Optional
from urllib.parse import parse_qs

from chalicelib.http.errors import ApiError
from chalicelib.users.model import User


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template((Path(__file__).with_name("index.html")).read_text(encoding="utf-8"))


def _error_text(error: ApiError) -> str:
    if error.details:
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.details.items())
    return error.message


def render_index(users: Optional[list[User]], *, error: Optional[ApiError] = None,
                 form: Optional[Mapping[str, Any]] = None, stale: bool = False) -> str:
    """``users`` None: the list cannot be read right now (the page still shows the form and the error)."""
    if users is None:
        rows = '<tr><td colspan="3">The user list cannot be read right now; try again shortly.</td></tr>'
    else:
        rows = "\n".join(
            f"<tr><td>{html.escape(user.name)}</td><td>{html.escape(user.email)}</td>"
            f"<td>{html.escape(user.created_at)}</td></tr>" for user in users
        ) or '<tr><td colspan="3">No users yet.</td></tr>'
    notices = []
    if error is not None:
        notices.append(f'<p class="error" role="alert">{html.escape(_error_text(error))}</p>')
    if stale:
        notices.append('<p class="stale">The user store is degraded; this list may be out of date.</p>')
    form = form or {}

    def field(name: str) -> str:
        value = form.get(name)
        return html.escape(value, quote=True) if isinstance(value, str) else ""

    return _template().substitute(notice="\n".join(notices), rows=rows, name=field("name"),
                                  email=field("email"))


def parse_form(raw_body: Optional[bytes]) -> dict[str, list[str]]:
    """A form body as every value of each field, in the order sent.

    Raises ``UnicodeDecodeError`` for invalid UTF-8, raw or percent-encoded (``%FF``), which
    ``parse_qs`` would otherwise turn into U+FFFD and store.
    """
    text = (raw_body or b"").decode("utf-8", errors="strict")
    return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
