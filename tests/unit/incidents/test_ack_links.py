"""Signed, expiring acknowledge links."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from chalicelib.incidents.ack_links import AckLinkSigner, LinkRejected

INCIDENT = "inc-0123456789abcdef"


def _params(url):
    return dict(parse_qsl(urlsplit(url).query))


def test_link_verifies_for_its_incident(signer):
    url, _ = signer.link(INCIDENT, 2)
    claims = signer.verify(INCIDENT, _params(url))
    assert (claims.incident_id, claims.level) == (INCIDENT, 2)
    assert url.startswith(f"https://api.example.test/sre/incidents/{INCIDENT}/ack-link?")


def test_link_for_another_incident_is_rejected(signer):
    url, _ = signer.link(INCIDENT, 2)
    with pytest.raises(LinkRejected, match="signature"):
        signer.verify("inc-fedcba9876543210", _params(url))


def test_tampered_level_is_rejected(signer):
    url, _ = signer.link(INCIDENT, 2)
    with pytest.raises(LinkRejected, match="signature"):
        signer.verify(INCIDENT, {**_params(url), "level": "4"})


def test_expired_link_is_rejected(signer, clock):
    url, _ = signer.link(INCIDENT, 1)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(LinkRejected, match="expired"):
        signer.verify(INCIDENT, _params(url))


def test_link_signed_with_another_key_is_rejected(signer, clock):
    other = AckLinkSigner(lambda: b"another key", ttl_seconds=3600, base_url="https://x",
                          clock=lambda: clock().timestamp())
    url, _ = other.link(INCIDENT, 1)
    with pytest.raises(LinkRejected):
        signer.verify(INCIDENT, _params(url))


@pytest.mark.parametrize("params", [{}, {"level": "1"}, {"level": "x", "exp": "1", "nonce": "a" * 16, "sig": "s"}])
def test_incomplete_or_malformed_link_is_rejected(signer, params):
    with pytest.raises(LinkRejected):
        signer.verify(INCIDENT, params)


def test_signing_key_comes_from_secrets_manager(stored_secrets, wired):
    signer = wired.ack_link_signer
    url, _ = signer.link(INCIDENT, 1)
    assert signer.verify(INCIDENT, _params(url)).level == 1
