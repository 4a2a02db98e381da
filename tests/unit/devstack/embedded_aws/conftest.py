import pytest
from moto.dynamodb.responses import DynamoHandler

from tests.support import moto_speedups


@pytest.fixture
def restore_dynamo_handler():
    """moto as released while the test runs (the unit suite runs it with the savings applied),
    and whatever the test changed undone after."""
    with moto_speedups.stock_moto():
        from moto.dynamodb import models

        saved = {name: DynamoHandler.__dict__.get(name) for name in ("serialized", "call_action")}
        from moto.dynamodb.models.dynamo_type import DynamoType

        from moto.dynamodb import responses
        from moto.dynamodb.models import table as table_module

        saved_transact, saved_copy = models.DynamoDBBackend.transact_write_items, models.copy
        from moto.dynamodb.models.dynamo_type import Item

        saved_cast, saved_size = DynamoType.__dict__["cast_value"], Item.__dict__["size"]
        saved_to_dict, saved_table_copy = responses.dynamo_to_dict, table_module.copy
        from moto.core import responses as core_responses

        saved_sorts = {name: table_module.Table.__dict__[name] for name in ("all_items", "sorted_items")}
        saved_enrich = core_responses.BaseResponse.__dict__["_enrich_response"]
        saved_method_names = core_responses.method_names_from_class
        yield
        for name, value in saved_sorts.items():
            setattr(table_module.Table, name, value)
        core_responses.BaseResponse._enrich_response = saved_enrich
        core_responses.method_names_from_class = saved_method_names
        models.DynamoDBBackend.transact_write_items, models.copy = saved_transact, saved_copy
        responses.dynamo_to_dict, table_module.copy = saved_to_dict, saved_table_copy
        DynamoType.cast_value, Item.size = saved_cast, saved_size
        for name, value in saved.items():
            if value is None:
                if name in DynamoHandler.__dict__:
                    delattr(DynamoHandler, name)
            else:
                setattr(DynamoHandler, name, value)


@pytest.fixture
def restore_model_tracking():
    from moto.core.common_models import BaseModel

    saved = BaseModel.__dict__["__new__"]
    yield
    BaseModel.__new__ = saved
