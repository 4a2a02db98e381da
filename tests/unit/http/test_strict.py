import pytest

from chalicelib.http import strict


@pytest.mark.parametrize("raw", ["²", "٣", "1²", "9" * 5000, "9" * 19, "-1", "+1", " 1", "1 ", "1.0", "1e3",
                                 "0x10", "1_000", "", None])
def test_anything_but_a_few_ascii_digits_is_not_an_integer(raw):
    assert strict.parse_bounded_int(raw, 0, 10**18) is None


@pytest.mark.parametrize("raw, expected", [("1", 1), ("050", 50), ("100", 100)])
def test_ascii_digits_within_bounds_are_an_integer(raw, expected):
    assert strict.parse_bounded_int(raw, 1, 100) == expected


@pytest.mark.parametrize("raw", ["0", "101"])
def test_integers_out_of_bounds_are_rejected(raw):
    assert strict.parse_bounded_int(raw, 1, 100) is None


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "[-1e400]"])
def test_non_finite_numbers_are_not_json(text):
    with pytest.raises(ValueError):
        strict.loads(text)


def test_duplicate_keys_are_rejected_at_any_depth():
    with pytest.raises(ValueError, match="duplicate key 'b'"):
        strict.loads('{"a": {"b": 1, "b": 2}}')


def test_ordinary_json_is_read_as_usual():
    assert strict.loads('{"a": [1, 2.5, "x", null, true], "b": {}}') == {"a": [1, 2.5, "x", None, True], "b": {}}


def test_dumps_refuses_nan():
    with pytest.raises(ValueError):
        strict.dumps({"x": float("nan")})
