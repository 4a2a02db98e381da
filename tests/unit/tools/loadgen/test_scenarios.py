import copy

import pytest

from tools.loadgen import ScenarioError, load_scenario, parse_scenario, shipped_scenarios
from tools.loadgen.scenario import SCENARIO_DIR, MissingValue, render

from .conftest import CRUD_SCENARIO


@pytest.mark.parametrize("name", shipped_scenarios())
def test_every_shipped_scenario_is_valid(name):
    scenario = load_scenario(SCENARIO_DIR / f"{name}.yaml")
    assert scenario.name == name
    assert scenario.requests


@pytest.mark.parametrize("name", shipped_scenarios())
def test_every_shipped_scenario_that_creates_can_delete_what_it_created(name):
    scenario = load_scenario(SCENARIO_DIR / f"{name}.yaml")
    assert scenario.cleanup is not None or not scenario.creates()


def test_the_benchmark_scenarios_are_shipped():
    assert {"users-list", "crud-mix", "health-live"} <= set(shipped_scenarios())


def test_an_unknown_field_is_refused_with_where_it_is():
    document = copy.deepcopy(CRUD_SCENARIO)
    document["requests"][0]["follow_ups"][0]["methd"] = "GET"
    with pytest.raises(ScenarioError, match="requests/0/follow_ups/0"):
        parse_scenario(document, "test.yaml")


def set_field(document, where, field, value):
    """Set ``field`` of the request at path ``where`` (keys and indexes) of a scenario document."""
    request = document
    for part in where:
        request = request[part]
    request[field] = value


@pytest.mark.parametrize("where, field, value", [
    (("requests", 0), "probability", 0.5), (("requests", 0), "repeat", 3),
    (("requests", 0, "follow_ups", 0), "weight", 2), (("requests", 0, "follow_ups", 0), "follow_ups", []),
    (("setup", 0), "weight", 2), (("setup", 0), "probability", 0.5)])
def test_a_field_the_request_would_ignore_where_it_stands_is_refused(where, field, value):
    """repeat is for setup requests, weight and follow_ups for top-level ones, probability for follow-ups."""
    document = {**copy.deepcopy(CRUD_SCENARIO), "setup": [{"name": "seed", "method": "GET", "path": "/users"}]}
    set_field(document, where, field, value)
    with pytest.raises(ScenarioError, match=f"{'/'.join(map(str, where))}: .*'{field}' was unexpected"):
        parse_scenario(document, "test.yaml")


def test_a_placeholder_naming_no_earlier_request_is_refused():
    document = copy.deepcopy(CRUD_SCENARIO)
    document["requests"][0]["follow_ups"][0]["path"] = "/users/${creat.json.id}"
    with pytest.raises(ScenarioError, match=r"request read: path: \$\{creat.json.id\}"):
        parse_scenario(document, "test.yaml")


def test_update_without_an_id_template_is_refused():
    document = copy.deepcopy(CRUD_SCENARIO)
    del document["requests"][0]["follow_ups"][1]["id"]
    with pytest.raises(ScenarioError, match="needs an id template"):
        parse_scenario(document, "test.yaml")


def test_a_whole_placeholder_keeps_its_type_and_a_partial_one_is_text():
    context = {"seq": 7, "create": {"json": {"id": "abc", "n": 3}}}
    assert render({"n": "${create.json.n}", "path": "/u/${create.json.id}?s=${seq}"}, context) == {
        "n": 3, "path": "/u/abc?s=7"}


def test_a_missing_answer_raises_missing_value():
    with pytest.raises(MissingValue):
        render("/users/${create.json.id}", {"create": {"json": None}})


@pytest.mark.parametrize("name, content", [
    ("broken.yaml", b"name: x\nrequests:\n  - name: a\n   bad: [\n"),
    ("broken.json", b'{"name": "x", "requests": [}'),
    ("latin1.yaml", b"name: caf\xe9\n"),
])
def test_a_scenario_file_that_is_not_yaml_or_json_is_a_scenario_error_naming_it(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=f"{name}: cannot be read as a"):
        load_scenario(path)


def test_a_directory_given_as_the_scenario_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot be read.*Is a directory"):
        load_scenario(tmp_path)


@pytest.mark.parametrize("where, field, value", [
    (("requests", 0), "weight", float("nan")), (("requests", 0), "weight", float("inf")),
    (("requests", 0, "follow_ups", 0), "probability", float("nan")),
    (("requests", 0), "json", {"age": float("-inf")})])
def test_a_number_that_is_not_finite_is_refused_with_where_it_is(where, field, value):
    """YAML's .nan passes the schema's minimum and maximum (NaN compares false to both): a NaN probability
    sent every follow-up, and an infinite weight failed the run once it started."""
    document = copy.deepcopy(CRUD_SCENARIO)
    set_field(document, where, field, value)
    with pytest.raises(ScenarioError, match=f"test.yaml: {'/'.join(map(str, where))}/{field}.* is not a finite number"):
        parse_scenario(document, "test.yaml")


@pytest.mark.parametrize("body, said", [
    ("{when: 2020-01-01}", r"requests/0/json/when: a date is not a JSON value"),
    ("{blob: !!binary aGVsbG8=}", r"requests/0/json/blob: a bytes is not a JSON value"),
    ("{on: 1}", r"requests/0/json: the key True is not text"),
])
def test_a_yaml_value_json_cannot_send_is_refused_with_where_it_is(tmp_path, body, said):
    """A date in a body passed the schema (``json`` takes anything) and the run died in json.dumps."""
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nrequests:\n  - {{name: a, method: POST, path: /users, json: {body}}}\n")
    with pytest.raises(ScenarioError, match=said):
        load_scenario(path)


@pytest.mark.parametrize("name, content, said", [
    ("s.yaml", "name: s\nrequests:\n  - name: a\n    method: GET\n    path: /a\n    path: /b\n",
     r"s.yaml: line 6, column 5: the key 'path' is given twice \(first at line 5, column 5\)"),
    ("s.yaml", "name: s\nname: t\nrequests: [{name: a, method: GET, path: /a}]\n",
     r"s.yaml: line 2, column 1: the key 'name' is given twice \(first at line 1, column 1\)"),
    ("s.json", '{"name": "s", "requests": [{"name": "a", "method": "GET", "path": "/a", "headers": '
               '{"Accept": "text/plain", "Accept": "application/json"}}]}',
     "s.json: requests/0/headers: the key 'Accept' is given twice"),
    ("s.json", '{"name": "s", "name": "t", "requests": [{"name": "a", "method": "GET", "path": "/a"}]}',
     r"s.json: \(document\): the key 'name' is given twice"),
])
def test_a_key_given_twice_is_refused_naming_it_and_where(tmp_path, name, content, said):
    """The parsers kept the last silently: a scenario ran another request than the one read first."""
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ScenarioError, match=said):
        load_scenario(path)


def test_a_yaml_merge_may_still_give_a_key_the_mapping_overrides(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsetup:\n  - &base {name: seed, method: GET, path: /a}\n"
                    "requests:\n  - <<: *base\n    name: ping\n    path: /b\n")
    assert load_scenario(path).requests[0].path == "/b"


def test_a_yaml_alias_that_holds_itself_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nrequests:\n  - name: a\n    method: POST\n    path: /users\n    json: &a [*a]\n")
    with pytest.raises(ScenarioError, match="requests/0/json/0: a YAML alias refers to the value that holds it"):
        load_scenario(path)


def test_a_yaml_bomb_is_refused_without_expanding_it(tmp_path):
    """Nine aliases of nine: 9**9 values from a few hundred bytes; validating it never ended."""
    lines = ['      a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        name, inner = "abcdefghi"[level], "abcdefghi"[level - 1]
        lines.append(f"      {name}: &{name} [{', '.join([f'*{inner}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("name: s\nrequests:\n  - name: a\n    method: POST\n    path: /users\n    json:\n"
                    + "\n".join(lines) + "\n")
    with pytest.raises(ScenarioError, match="expands to more than 100000 values"):
        load_scenario(path)


def test_a_scenario_file_over_a_mebibyte_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(ScenarioError, match="huge.yaml: cannot be read .*larger than 1024 KiB"):
        load_scenario(path)


@pytest.mark.parametrize("where, placeholder, said", [
    ("path", "/users/${seq.id}", r"request create: path: \$\{seq.id\}: the built-in seq has no fields"),
    ("headers", "${create.json.id}", r"headers: \$\{create.json.id\} names neither a built-in"),
])
def test_a_placeholder_the_first_request_can_never_fill_is_refused(where, placeholder, said):
    """Such an iteration sends nothing: a closed-model client spun through them without yielding to the
    event loop, 200,000 iterations in 2 s, and Ctrl-C went unheard until the duration ran out."""
    document = copy.deepcopy(CRUD_SCENARIO)
    if where == "path":
        document["requests"][0]["path"] = placeholder
    else:
        document["headers"] = {"X-Created": placeholder}
    with pytest.raises(ScenarioError, match=said):
        parse_scenario(document, "test.yaml")


@pytest.mark.parametrize("headers, said", [
    ({"X-Evil": "a\r\nInjected: yes"}, "a header value holds no control characters but tab"),
    ({"X-Trailing": "a\n"}, "a header value holds no control characters but tab"),
    ({"X Spaced": "a"}, "a header name is a token"),
])
def test_a_header_that_cannot_be_sent_as_written_is_refused(headers, said):
    document = copy.deepcopy(CRUD_SCENARIO)
    document["requests"][0]["headers"] = headers
    with pytest.raises(ScenarioError, match=f"requests/0/headers.*{said}"):
        parse_scenario(document, "test.yaml")


def test_a_header_value_of_any_printable_unicode_or_a_tab_is_accepted():
    document = copy.deepcopy(CRUD_SCENARIO)
    document["requests"][0]["headers"] = {"X-Name": "Zoë ✓ 🚀\tend"}
    assert parse_scenario(document, "test.yaml").requests[0].headers == {"X-Name": "Zoë ✓ 🚀\tend"}


def test_a_cleanup_path_that_would_leave_the_base_url_or_names_no_id_is_refused():
    for path in ("@elsewhere.example/{id}", "/users"):
        document = {**CRUD_SCENARIO, "cleanup": {"delete": path}}
        with pytest.raises(ScenarioError, match="cleanup/delete: .* does not match"):
            parse_scenario(document, "test.yaml")


@pytest.mark.parametrize("field, path", [("read", "@elsewhere.example/{id}"), ("list", "@elsewhere.example/users")])
def test_an_integrity_path_that_would_leave_the_base_url_is_refused(field, path):
    """base_url + '@elsewhere.example/users' is http://127.0.0.1:8000@elsewhere.example/users: another host."""
    document = copy.deepcopy(CRUD_SCENARIO)
    document["integrity"][field] = path
    with pytest.raises(ScenarioError, match=f"integrity/{field}: .* does not match"):
        parse_scenario(document, "test.yaml")


def test_weights_whose_sum_is_not_finite_are_refused():
    """Two weights of 1e308 passed; the run then stopped at its first pick: 'Total of weights must be finite'."""
    document = copy.deepcopy(CRUD_SCENARIO)
    document["requests"][0]["weight"] = 1e308
    document["requests"].append({"name": "list", "method": "GET", "path": "/users", "weight": 1e308})
    with pytest.raises(ScenarioError, match="test.yaml: requests: the weights add up to more than a number holds"):
        parse_scenario(document, "test.yaml")


def test_the_command_refuses_a_key_given_twice_with_exit_2_in_one_line(tmp_path, capsys):
    from tools.loadgen.cli import main

    path = tmp_path / "s.yaml"
    path.write_text("name: s\nrequests:\n  - {name: a, method: GET, path: /a, path: /b}\n")
    assert main([str(path), "--clients", "1", "--duration", "1s", "--base-url", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == (f"loadgen: {path}: line 3, column 38: the key 'path' is given twice "
                                       "(first at line 3, column 28)\n")
