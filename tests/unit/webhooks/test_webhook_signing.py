from chalicelib.webhooks.signing import signature, signed_headers, verify

KEY = "k3y"
BODY = b'{"id":"e1"}'


def test_signature_is_hmac_sha256_of_timestamp_and_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k3y", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(KEY, 1700000000, BODY) == f"sha256={expected}"


def test_signed_headers_verify():
    assert verify(KEY, signed_headers(KEY, 1700000000, BODY), BODY, now=1700000010) is None


def test_tampered_body_is_rejected():
    assert verify(KEY, signed_headers(KEY, 1700000000, BODY), b'{"id":"e2"}', now=1700000000) == \
        "Signature does not match"


def test_wrong_key_is_rejected():
    assert verify("other", signed_headers(KEY, 1700000000, BODY), BODY, now=1700000000) is not None


def test_old_timestamp_is_rejected_as_a_replay():
    assert "tolerance" in verify(KEY, signed_headers(KEY, 1700000000, BODY), BODY, now=1700000301)


def test_missing_headers_are_rejected():
    assert "Missing" in verify(KEY, {}, BODY, now=1700000000)
