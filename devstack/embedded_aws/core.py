"""moto's server as a whole: what every request paid for and no answer needed."""
from __future__ import annotations

import logging
from typing import Any, Optional

# moto's Step Functions interpreter logs every state that fails an execution at ERROR, with the
# state's whole repr; a Fail state is an outcome the execution's history records (the escalation of
# an incident resolved meanwhile ends in one), and the stack's console printed it as an error.
WORKFLOW_INTERPRETER_LOGGER = "moto.stepfunctions.parser"


def keep_workflow_failures_off_the_console() -> None:
    logging.getLogger(WORKFLOW_INTERPRETER_LOGGER).setLevel(logging.CRITICAL)


def stop_keeping_every_model_object() -> None:
    from moto.core.common_models import BaseModel

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        if cls.__module__.startswith("moto.s3."):  # S3's reset closes the files of the keys it kept
            cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
        return instance

    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


def cache_handler_method_names() -> None:
    """Every call lists the handler class's methods (``inspect.getmembers``, ~0.1 ms) to check the
    action is implemented; a class's methods do not change while the server runs."""
    import functools

    from moto.core import responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


def skip_request_id_rewrite_without_xml() -> None:
    """moto rewrites ``<RequestId>`` in every answer body with a regular expression (a lookbehind
    tried at each position: ~0.4 ms for a page of 100 users); JSON answers never hold the tag."""
    from moto.core.responses import BaseResponse
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    original = BaseResponse._enrich_response

    def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, str) and "<RequestId>" not in body:
            if "status" in headers:
                headers["status"] = str(headers["status"])
            gen_amzn_requestid_long(headers)
            return headers, body
        return original(headers, body)

    BaseResponse._enrich_response = staticmethod(enrich_response)


class CachingDispatcher:
    """moto finds the service of every request by listing its package folder and matching ~200 URL
    patterns against the host (a sixth of a DynamoDB call's cost); the answer for a host never changes.
    moto also runs each service's Flask app in debug mode, where every request with a body defines a
    new class (a cycle only the full garbage collection frees: memory grew with the request count)."""

    @staticmethod
    def create(dispatcher_class: type, create_app: Any) -> Any:
        class Dispatcher(dispatcher_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._backends_by_host: dict[Optional[str], Any] = {}

            def get_backend_for_host(self, host: Optional[str]) -> Any:
                try:
                    return self._backends_by_host[host]
                except KeyError:
                    backend = self._backends_by_host[host] = super().get_backend_for_host(host)
                    return backend

        def create_app_without_debug(service: Any) -> Any:
            app = create_app(service)
            app.debug = False
            return app

        return Dispatcher(create_app_without_debug)
