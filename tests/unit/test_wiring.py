import pytest

from chalicelib.settings import Settings
from chalicelib.wiring import Wiring


@pytest.mark.parametrize("model_of", [lambda wiring: wiring.outbox.model, lambda wiring: wiring.breaker_model],
                         ids=["webhook outbox", "breaker states"])
def test_request_path_models_are_handed_out_with_their_clients_built(model_of):
    model = model_of(Wiring(Settings.from_env({"AWS_REGION": "us-east-1"})))
    assert model._get_connection().connection._client is not None
