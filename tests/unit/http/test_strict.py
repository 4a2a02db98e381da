import sys

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


@pytest.mark.parametrize("digits", [310, 4301, 10_000])
def test_integers_beyond_a_double_are_not_json_and_the_error_says_so_briefly(digits):
    with pytest.raises(ValueError, match=f"^an integer of {digits} digits is out of range for a JSON number$"):
        strict.loads('{"a": [-' + "9" * digits + "]}")


def test_a_long_number_beyond_a_double_is_not_echoed_back_whole():
    with pytest.raises(ValueError, match="^a number of 5004 characters is out of range for a JSON number$"):
        strict.loads("[" + "1" * 5000 + ".0e9]")


def test_integers_a_double_can_hold_are_read_whole():
    largest = int(sys.float_info.max)
    assert strict.loads(f"[{largest}, -{largest}, 0]") == [largest, -largest, 0]


def test_duplicate_keys_are_rejected_at_any_depth():
    with pytest.raises(ValueError, match="duplicate key 'b'"):
        strict.loads('{"a": {"b": 1, "b": 2}}')


def test_ordinary_json_is_read_as_usual():
    assert strict.loads('{"a": [1, 2.5, "x", null, true], "b": {}}') == {"a": [1, 2.5, "x", None, True], "b": {}}


def test_dumps_refuses_nan():
    with pytest.raises(ValueError):
        strict.dumps({"x": float("nan")})


@pytest.mark.parametrize("value", ["x\ud800", {"a": ["ok", {"b": "\udfff"}]}, {"\ud800": 1}])
def test_a_lone_surrogate_anywhere_in_a_value_is_found(value):
    assert strict.holds_lone_surrogate(value)


@pytest.mark.parametrize("value", ["caf\u00e9 \U0001f680", {"a": [1, 2.5, None, True, "\u202e"]}, []])
def test_text_without_lone_surrogates_is_not_flagged(value):
    assert not strict.holds_lone_surrogate(value)


def test_a_value_nested_as_deep_as_the_parser_allows_is_checked_without_recursion():
    value = strict.loads("[" * 900 + '"\\ud800"' + "]" * 900)
    assert strict.holds_lone_surrogate(value)


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31mred", "a\x7fb", "a\x9bb", "line\u2028over", "t\u202eevil",
                                  "t\u2067isolate"])
def test_free_text_with_controls_separators_or_bidirectional_overrides_is_flagged(text):
    assert strict.has_control_characters(text)


@pytest.mark.parametrize("text", ["two\nlines\tand a tab", "caf\u00e9 \U0001f469\u200d\U0001f4bb",
                                  "\u05e9\u05dc\u05d5\u05dd \u200f(RLM)"])
def test_free_text_with_newlines_joiners_and_right_to_left_letters_is_not_flagged(text):
    assert not strict.has_control_characters(text)


def test_the_first_string_with_control_characters_is_named_by_its_path():
    value = {"title": "ok", "method": [{"name": "fine"}, {"name": "bad\u202e"}]}
    assert strict.first_string_with_control_characters(value) == ["method", 1, "name"]
    assert strict.first_string_with_control_characters({"k\x1b": 1}) == ["k\x1b"]
    assert strict.first_string_with_control_characters({"a": ["ok", 1, None]}) is None
