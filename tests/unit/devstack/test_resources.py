from devstack.resources import create_table_request, definitions


def test_every_table_definition_makes_a_valid_create_table_request():
    for key, spec in definitions("tables").items():
        request = create_table_request(spec)
        declared = {attribute["AttributeName"] for attribute in request["AttributeDefinitions"]}
        keys = {element["AttributeName"] for element in request["KeySchema"]}
        for index in request.get("GlobalSecondaryIndexes", []):
            keys |= {element["AttributeName"] for element in index["KeySchema"]}
        assert keys == declared, key


def test_a_name_setting_in_the_environment_overrides_the_default(monkeypatch):
    spec = definitions("tables")["users"]
    monkeypatch.setenv(spec["name_setting"], "other-users")
    assert create_table_request(spec)["TableName"] == "other-users"


def test_every_function_handler_is_importable():
    from devstack.functions import handler_for

    for key in definitions("functions"):
        assert callable(handler_for(key)), key
