"""A moto server in this process provisioned like the local stack, for the tests that run the
state machines for real (moto's in-process ``mock_aws`` runs no Step Functions executions)."""
from __future__ import annotations

import contextlib
import logging
import os
from types import SimpleNamespace
from typing import Iterator, Mapping

REGION = "us-east-1"


@contextlib.contextmanager
def provisioned_moto_server(services: tuple[str, ...],
                            environment: Mapping[str, str] = {}) -> Iterator[SimpleNamespace]:
    """A moto server on a free port with the stack's tables, topics, secrets, functions and state
    machines; ``clients`` of ``services`` talk to it. While it runs the service's clients talk to it
    too (AWS_ENDPOINT_URL) with ``environment`` set; both are restored after, and so are the state
    machine ARN settings provisioning sets."""
    import boto3
    from moto.server import ThreadedMotoServer

    from devstack.ports import free_port
    from devstack.provision import provision_secrets, provision_tables, provision_topics
    from devstack.resources import definitions
    from devstack.statemachines import provision_statemachines, uninstall_handler_dispatch

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    arn_settings = [spec["arn_setting"] for spec in definitions("statemachines").values() if spec.get("arn_setting")]
    names = ("AWS_ENDPOINT_URL", "MOTO_PORT", *environment, *arn_settings)
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": str(port), **environment})
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        session = boto3.session.Session(region_name=REGION)
        clients = {name: session.client(name, endpoint_url=endpoint)
                   for name in {"dynamodb", "sns", "secretsmanager", *services}}
        resources = {"tables": provision_tables(clients["dynamodb"]),
                     "topics": provision_topics(clients["sns"]),
                     "secrets": provision_secrets(clients["secretsmanager"])}
        machines = provision_statemachines(endpoint, REGION, resources)  # sets the ARN settings
        yield SimpleNamespace(endpoint=endpoint, clients=clients, resources=resources, machines=machines)
    finally:
        uninstall_handler_dispatch()
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
