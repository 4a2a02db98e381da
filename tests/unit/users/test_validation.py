import pytest

from chalicelib.http.errors import ValidationFailed
from chalicelib.users.validation import validate_user


def details_of(data):
    with pytest.raises(ValidationFailed) as caught:
        validate_user(data)
    return caught.value.details


def test_name_is_trimmed():
    assert validate_user({"name": "  Ada  ", "email": "ada@example.com"}).name == "Ada"


def test_email_key_is_lower_case():
    assert validate_user({"name": "Ada", "email": "Ada@Example.COM"}).email_key == "ada@example.com"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_name_outside_1_to_100_characters_is_rejected(name):
    assert "name" in details_of({"name": name, "email": "ada@example.com"})


def test_name_of_100_characters_is_accepted():
    assert len(validate_user({"name": "x" * 100, "email": "ada@example.com"}).name) == 100


@pytest.mark.parametrize("email", ["plain", "a@b", "a@@b.com", "a b@c.com", "@example.com", "a@.com",
                                   "a@example.c", "a@-example.com", "x" * 65 + "@example.com"])
def test_malformed_email_is_rejected(email):
    assert details_of({"name": "Ada", "email": email}) == {"email": ["Not a valid email address."]}


def test_email_longer_than_254_characters_is_rejected():
    email = "a@" + ("b" * 60 + ".") * 5 + "com"
    assert len(email) > 254
    assert "email" in details_of({"name": "Ada", "email": email})


@pytest.mark.parametrize("value", [1, 1.5, True, ["a"], {"a": 1}])
def test_non_string_fields_are_rejected(value):
    assert details_of({"name": value, "email": value}) == {"name": ["Not a valid string."],
                                                           "email": ["Not a valid string."]}


def test_missing_and_null_fields_are_required():
    assert details_of({"name": None}) == {"name": ["Missing data for required field."],
                                          "email": ["Missing data for required field."]}


def test_unknown_fields_are_rejected():
    assert details_of({"name": "Ada", "email": "ada@example.com", "admin": True}) == {"admin": ["Unknown field."]}


@pytest.mark.parametrize("name", ["Ada\x00", "Ada\nLovelace", "Ada\u200b"])
def test_control_characters_are_rejected(name):
    assert details_of({"name": name, "email": "ada@example.com"}) == {
        "name": ["Must not contain control characters."]}


@pytest.mark.parametrize("name", ["Ada\u2028Lovelace", "Ada\u2029Lovelace"])
def test_line_and_paragraph_separators_are_rejected_as_a_newline_is(name):
    assert details_of({"name": name, "email": "ada@example.com"}) == {
        "name": ["Must not contain control characters."]}


def test_a_name_is_stored_in_nfc_so_one_name_typed_two_ways_is_one_string():
    decomposed = validate_user({"name": "Zoe\u0301 Lo\u0308we", "email": "zoe@example.com"}).name
    assert decomposed == "Zo\u00e9 L\u00f6we" == validate_user({"name": "Zo\u00e9 L\u00f6we", "email": "z@example.com"}).name


def test_a_name_that_nfc_lengthens_past_100_characters_is_rejected():
    assert details_of({"name": "\u0958" * 100, "email": "ada@example.com"}) == {
        "name": ["Length must be between 1 and 100."]}
