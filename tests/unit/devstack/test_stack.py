import json
import os
import subprocess
import sys

from devstack.stack import LOCAL_ENVIRONMENT

MODEL_POOLS = """
import json
from chalicelib.users.dynamodb import table_models
models = table_models("users", "us-east-1")
print(json.dumps([models.user.Meta.max_pool_connections, models.connection._max_pool_connections]))
"""


def test_the_local_stacks_dynamodb_models_keep_as_many_connections_as_its_clients():
    """pynamodb reads its settings file when first imported, so a fresh process shows what the stack's gets."""
    environment = {**os.environ, **LOCAL_ENVIRONMENT}
    result = subprocess.run([sys.executable, "-c", MODEL_POOLS], env=environment, capture_output=True, text=True,
                            timeout=60, check=True)
    assert json.loads(result.stdout) == [int(LOCAL_ENVIRONMENT["AWS_MAX_POOL_CONNECTIONS"])] * 2
    assert int(LOCAL_ENVIRONMENT["AWS_MAX_POOL_CONNECTIONS"]) > 10  # more than botocore's and pynamodb's default
