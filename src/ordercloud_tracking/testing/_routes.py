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

_TABLE: list[tuple[str, str, Handler]] = [
    ("POST", r"/oauth/token", oauth.token),
    ("GET", r"/v1/me", oauth.me_get),
    ("PUT", r"/v1/me/orders", oauth.me_transfer),
    ("GET", r"/v1/me/orders", commerce.me_list_orders),
    ("PUT", r"/v1/me/register", oauth.me_register),
    ("GET", r"/v1/cart", commerce.cart_get),
    ("GET", r"/v1/cart/lineitems", commerce.cart_list_lines),
    ("POST", r"/v1/cart/lineitems", commerce.cart_add_line),
    ("GET", _CART_LINE, commerce.cart_get_line),
    ("PUT", _CART_LINE, commerce.cart_save_line),
    ("PATCH", _CART_LINE, commerce.cart_patch_line),
    ("DELETE", _CART_LINE, commerce.cart_delete_line),
    ("PATCH", r"/v1/cart/fromuser", commerce.cart_from_user),
    ("POST", r"/v1/cart/submit", commerce.cart_submit),
    ("GET", r"/v1/orders/(?P<direction>[^/]+)", commerce.order_list),
    ("POST", r"/v1/orders/(?P<direction>[^/]+)", commerce.order_create),
    ("GET", _ORDER, commerce.order_get),
    ("GET", _ORDER + "/lineitems", commerce.order_list_lines),
    ("POST", _ORDER + "/lineitems", commerce.order_add_line),
    ("GET", _ORDER_LINE, commerce.order_get_line),
    ("PUT", _ORDER_LINE, commerce.order_save_line),
    ("PATCH", _ORDER_LINE, commerce.order_patch_line),
    ("DELETE", _ORDER_LINE, commerce.order_delete_line),
    ("POST", _ORDER + "/submit", commerce.order_submit),
    ("GET", r"/v1/apiclients", integrations.api_client_list),
    ("GET", r"/v1/apiclients/(?P<client_id>[^/]+)", integrations.api_client_get),
    ("PATCH", r"/v1/apiclients/(?P<client_id>[^/]+)", integrations.api_client_patch),
    ("GET", r"/v1/integrations/trackingEvents", integrations.te_list),
    ("POST", r"/v1/integrations/trackingEvents", integrations.te_create),
    ("GET", _EVENT, integrations.te_get),
    ("PUT", _EVENT, integrations.te_save),
    ("PATCH", _EVENT, integrations.te_patch),
    ("DELETE", _EVENT, integrations.te_delete),
    ("GET", r"/v1/integrations/deliveryconfig", integrations.dc_list),
    ("POST", r"/v1/integrations/deliveryconfig", integrations.dc_create),
    ("GET", _CONFIG, integrations.dc_get),
    ("PUT", _CONFIG, integrations.dc_save),
    ("PATCH", _CONFIG, integrations.dc_patch),
    ("DELETE", _CONFIG, integrations.dc_delete),
]

#: ``(method, path pattern, handler)``; a handler takes the state, the request and the path's named groups.
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(path), handler) for method, path, handler in _TABLE
]


def _route(state: State, request: FakeRequest) -> FakeResponse:  # noqa: RET503 - fail() never returns
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(request.path)
        if match is not None and method == request.method:
            return handler(state, request, **match.groupdict())
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
