"""The local stack's generated secrets."""
from devstack import provision


def test_a_generated_token_never_starts_with_a_dash_that_a_command_line_would_read_as_an_option(monkeypatch):
    drawn = iter(["-starts-like-an-option", "usable-token"])
    monkeypatch.setattr(provision.secrets, "token_urlsafe", lambda nbytes: next(drawn))
    assert provision.new_token() == "usable-token"
