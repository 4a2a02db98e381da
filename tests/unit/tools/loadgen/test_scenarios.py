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
