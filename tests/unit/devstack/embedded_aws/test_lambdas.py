from devstack.embedded_aws import lambdas
from devstack.resources import definitions


def test_function_names_and_arns_map_to_infra_keys():
    key = next(iter(definitions("functions")))
    assert lambdas.function_key(f"serverless-sre-{key}") == key
    assert lambdas.function_key(f"arn:aws:lambda:us-east-1:123456789012:function:serverless-sre-{key}") == key
    assert lambdas.function_key(f"arn:aws:lambda:us-east-1:1:function:serverless-sre-{key}:$LATEST") == key
    assert lambdas.function_key("someone-elses-function") is None
