"""A Chalice Blueprint that can be registered on more than one app.

Chalice's route registration pops ``methods``, ``content_types`` and friends
out of the kwargs a Blueprint keeps, so a second ``register_blueprint`` (a
test app, a packaging step) silently registers every route as GET with the
defaults. This Blueprint restores each route's kwargs before every registration.

Its routes also answer 503 with ``Retry-After`` when an AWS service they call cannot take the call
(no connection, a timeout, throttling: ``chalicelib.aws.is_service_unavailable``); Chalice answers
every error a view lets through 500, as if the service were broken rather than its dependency away.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Dict, Optional

from chalice import Blueprint

from chalicelib.aws import is_service_unavailable
from chalicelib.http.errors import ApiError, ServiceUnavailable


def answering_503_when_aws_is_unavailable(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ApiError:
            raise
        except Exception as exc:  # only an unavailable AWS service is mapped; anything else stays a 500
            if not is_service_unavailable(exc):
                raise
            raise ServiceUnavailable("A service this endpoint depends on is unavailable; retry later") from exc

    return guarded


class ReusableBlueprint(Blueprint):
    def _register_handler(self, handler_type: str, name: str, user_handler: Any, wrapped_handler: Any,
                          kwargs: Dict[str, Any], options: Optional[Dict[Any, Any]] = None) -> None:
        if handler_type == "route":  # a route's wrapped handler is its view itself
            user_handler = wrapped_handler = answering_503_when_aws_is_unavailable(user_handler)
        pristine = copy.deepcopy(kwargs)
        super()._register_handler(handler_type, name, user_handler, wrapped_handler, kwargs, options)
        register = self._deferred_registrations[-1]

        def register_with_fresh_kwargs(app: Any, app_options: Dict[str, Any]) -> None:
            kwargs.clear()
            kwargs.update(copy.deepcopy(pristine))
            register(app, app_options)

        self._deferred_registrations[-1] = register_with_fresh_kwargs
