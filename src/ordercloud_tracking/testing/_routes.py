"""The route table and the dispatcher: which handler answers a request, under the state's lock."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from . import _commerce as commerce
from . import _integrations as integrations
from . import _oauth as oauth
from ._state import Emission, State
from ._wire import ApiError, FakeRequest, FakeResponse, error_body, fail

__all__ = ["ROUTES", "dispatch"]

Handler = Callable[..., FakeResponse]

_ORDER = r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)"
_ORDER_LINE = _ORDER + r"/lineitems/(?P<line_id>[^/]+)"
_CART_LINE = r"/v1/cart/lineitems/(?P<line_id>[^/]+)"
_EVENT = r"/v1/integrations/trackingEvents/(?P<event_id>[^/]+)"
_CONFIG = r"/v1/integrations/deliveryconfig/(?P<config_id>[^/]+)"
_API_CLIENT = r"/v1/apiclients/(?P<client_id>[^/]+)"


def _item(get: Handler, save: Handler, patch: Handler, delete: Handler) -> dict[str, Handler]:
    """The methods of one object's path: read it, replace it, update it in part, delete it."""
    return {"GET": get, "PUT": save, "PATCH": patch, "DELETE": delete}


_TABLE: dict[str, dict[str, Handler]] = {
    r"/oauth/token": {"POST": oauth.token},
    r"/v1/me": {"GET": oauth.me_get},
    r"/v1/me/orders": {"PUT": oauth.me_transfer, "GET": commerce.me_list_orders},
    r"/v1/me/register": {"PUT": oauth.me_register},
    r"/v1/cart": {"GET": commerce.cart_get},
    r"/v1/cart/lineitems": {"GET": commerce.cart_list_lines, "POST": commerce.cart_add_line},
    _CART_LINE: _item(
        commerce.cart_get_line, commerce.cart_save_line, commerce.cart_patch_line, commerce.cart_delete_line
    ),
    r"/v1/cart/fromuser": {"PATCH": commerce.cart_from_user},
    r"/v1/cart/submit": {"POST": commerce.cart_submit},
    r"/v1/orders/(?P<direction>[^/]+)": {"GET": commerce.order_list, "POST": commerce.order_create},
    _ORDER: {"GET": commerce.order_get},
    _ORDER + "/lineitems": {"GET": commerce.order_list_lines, "POST": commerce.order_add_line},
    _ORDER_LINE: _item(
        commerce.order_get_line, commerce.order_save_line, commerce.order_patch_line, commerce.order_delete_line
    ),
    _ORDER + "/submit": {"POST": commerce.order_submit},
    r"/v1/apiclients": {"GET": integrations.api_client_list},
    _API_CLIENT: {"GET": integrations.api_client_get, "PATCH": integrations.api_client_patch},
    r"/v1/integrations/trackingEvents": {"GET": integrations.te_list, "POST": integrations.te_create},
    _EVENT: _item(integrations.te_get, integrations.te_save, integrations.te_patch, integrations.te_delete),
    r"/v1/integrations/deliveryconfig": {"GET": integrations.dc_list, "POST": integrations.dc_create},
    _CONFIG: _item(integrations.dc_get, integrations.dc_save, integrations.dc_patch, integrations.dc_delete),
}

#: ``(path pattern, {method: handler})``; a handler takes the state, the request and the path's named groups.
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(path), methods) for path, methods in _TABLE.items()
]


def _route(state: State, request: FakeRequest) -> FakeResponse:  # noqa: RET503 - fail() never returns
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(request.path)
        if match is not None and request.method in methods:
            return methods[request.method](state, request, **match.groupdict())
    # A method the fake lacks on a path it knows (``DELETE /v1/cart``, ``POST /v1/apiclients``) is a real
    # OrderCloud route too: it is "not implemented" (501), never a 405 that looks like OrderCloud's.
    fail(
        501,
        "NotImplemented",
        f"FakeOrderCloud does not implement {request.method} {request.path}",
        {"Method": request.method, "Path": request.path},
    )


def dispatch(state: State, request: FakeRequest) -> tuple[FakeResponse, list[Emission]]:
    """Answer ``request`` from ``state``: the response and the events it emitted (none when it failed)."""
    with state.lock:
        state.outbox = []
        try:
            response = _route(state, request)
            response = attrs.evolve(response, encoded=response.content())  # a body that cannot be sent is a 500
        except ApiError as error:
            return error.response(), []
        except Exception as exc:
            message = f"FakeOrderCloud failed on {request.method} {request.path}: {type(exc).__name__}"
            return FakeResponse(500, error_body("InternalServerError", message)), []
        finally:
            emitted, state.outbox = state.outbox, []
        return response, emitted
