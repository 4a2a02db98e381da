"""Validation of user input, with field-level messages in the original service's shape."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from chalicelib.http.errors import ValidationFailed

NAME_MAX = 100
EMAIL_MAX = 254
FIELDS = ("name", "email")

# RFC 5322 dot-atom local part and a DNS domain with a dotted, alphabetic TLD.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")


@dataclass(frozen=True)
class UserInput:
    name: str
    email: str

    @property
    def email_key(self) -> str:
        return self.email.lower()


# Control, format and surrogate characters, and the line and paragraph separators (U+2028, U+2029),
# which break a line as a newline does.
_CONTROL_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in value)


def _check_name(value: Any) -> tuple[str | None, list[str]]:
    if not isinstance(value, str):
        return None, ["Not a valid string."]
    if _has_control_characters(value):
        return None, ["Must not contain control characters."]
    # NFC: "Zoé" typed as e + combining acute and as é is one name, stored one way.
    name = unicodedata.normalize("NFC", value.strip())
    # The limit counts what was sent, as the OpenAPI document's maxLength does, and what is stored:
    # NFC lengthens a few characters (U+0958 is two code points composed), and storage holds 100.
    if not name or max(len(value), len(name)) > NAME_MAX:
        return None, [f"Length must be between 1 and {NAME_MAX}."]
    return name, []


def _check_email(value: Any) -> tuple[str | None, list[str]]:
    if not isinstance(value, str):
        return None, ["Not a valid string."]
    if _has_control_characters(value):
        return None, ["Must not contain control characters."]
    email = value.strip()
    if len(value) > EMAIL_MAX:
        return None, [f"Longer than maximum length {EMAIL_MAX}."]
    local, _, _ = email.partition("@")
    if not _EMAIL.match(email) or len(local) > 64:
        return None, ["Not a valid email address."]
    return email, []


def validate_user(data: Mapping[str, Any]) -> UserInput:
    """Both fields required; unknown fields rejected. Raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    for unknown in sorted(set(data) - set(FIELDS)):
        errors[unknown] = ["Unknown field."]
    values: dict[str, str] = {}
    for field, check in (("name", _check_name), ("email", _check_email)):
        if field not in data or data[field] is None:
            errors[field] = ["Missing data for required field."]
            continue
        value, messages = check(data[field])
        if messages:
            errors[field] = messages
        else:
            values[field] = value
    if errors:
        raise ValidationFailed(errors)
    return UserInput(name=values["name"], email=values["email"])
