"""A Chalice Blueprint that can be registered on more than one app.

Chalice's route registration pops ``methods``, ``content_types`` and friends
out of the kwargs a Blueprint keeps, so a second ``register_blueprint`` (a
test app, a packaging step) silently registers every route as GET with the
defaults. This Blueprint restores each route's kwargs before every registration.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Optional

from chalice import Blueprint


class ReusableBlueprint(Blueprint):
    def _register_handler(self, handler_type: str, name: str, user_handler: Any, wrapped_handler: Any,
                          kwargs: Dict[str, Any], options: Optional[Dict[Any, Any]] = None) -> None:
        pristine = copy.deepcopy(kwargs)
        super()._register_handler(handler_type, name, user_handler, wrapped_handler, kwargs, options)
        register = self._deferred_registrations[-1]

        def register_with_fresh_kwargs(app: Any, app_options: Dict[str, Any]) -> None:
            kwargs.clear()
            kwargs.update(copy.deepcopy(pristine))
            register(app, app_options)

        self._deferred_registrations[-1] = register_with_fresh_kwargs
