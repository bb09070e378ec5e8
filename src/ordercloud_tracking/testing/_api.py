"""The fake's routes: OAuth, Me, Cart, Orders, ApiClients, TrackingEvents and DeliveryConfigs.

Everything here is synchronous and pure with respect to I/O: a request goes in, a response and a list of
events to emit come out. Transports, servers, faults and deliveries live in ``fake.py``.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import attrs

from ._state import FakeClock, Ids, Seed, SeedProduct, Signer, TokenInfo

__all__ = ["Emission", "FakeApi", "FakeRequest", "FakeResponse"]

JSON = dict[str, Any]

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
WRITE_ONLY = {
    "Kafka": ("SaslPassword",),
    "Http": ("Secret", "CustomAuthHeaderValue"),
    "SearchIngestion": ("ApiKey",),
    "DiscoverEvent": ("ApiKey",),
    "EventHub": ("ConnectionString",),
    "AzureBlob": ("ConnectionString",),
    "AzureTable": ("ConnectionString",),
    "CosmosDb": ("ConnectionString",),
    "Mandrill": ("ApiKey",),
    "Mailchimp": ("ApiKey",),
    "MessageSender": ("Secret",),
    "ContentHub": ("ApiKey",),
}
REQUIRED_TARGET_FIELDS = {
    "Kafka": ("BootstrapServers", "SaslUsername", "SaslPassword", "Topic"),
    "Http": ("Endpoint", "Secret"),
    "SearchIngestion": ("Domain", "Source", "Endpoint", "Entity", "ApiKey"),
    "SendEvent": ("SiteID", "ServiceEndpoint"),
    "DiscoverEvent": ("ClientID", "ApiKey", "ServiceEndpoint"),
    "EventHub": ("EventHubName", "ConnectionString"),
    "AzureBlob": ("ConnectionString",),
    "AzureTable": ("ConnectionString",),
    "CosmosDb": ("ConnectionString",),
    "Mandrill": ("ApiKey",),
    "Mailchimp": (),
    "MessageSender": ("Endpoint", "Secret"),
    "ContentHub": ("ApiKey", "Endpoint", "TargetSchemaName"),
}
MAX_LENGTHS = {("Http", "Secret"): 50, ("Http", "CustomAuthHeaderValue"): 50, ("MessageSender", "Secret"): 50}
TRACKING_EVENT_TYPES = ("UserLoggedIn", "LineItemAdded", "LineItemUpdated", "OrderSubmitted")

READ_TE = ("FullAccess", "TrackingEventAdmin", "TrackingEventReader")
WRITE_TE = ("FullAccess", "TrackingEventAdmin")
DELIVERY = ("FullAccess", "DeliveryConfigAdmin")
SHOPPER = ("FullAccess", "Shopper")
READ_API_CLIENTS = ("FullAccess", "ApiClientAdmin", "ApiClientReader")
WRITE_API_CLIENTS = ("FullAccess", "ApiClientAdmin")
ORDER_ADMIN = ("FullAccess", "OrderAdmin", "OrderReader")
SHOPPER_WRITE = (*SHOPPER, "OrderAdmin")
SHOPPER_READ = (*SHOPPER, *ORDER_ADMIN)


@attrs.frozen
class FakeRequest:
    """A request as the fake sees it (headers with lower-case names)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            _fail(400, "Request.InvalidRequestBody", "The request body is not valid JSON.")


@attrs.frozen
class FakeResponse:
    status: int
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def content(self) -> bytes:
        if self.body is None:
            return b""
        return dumps(self.body)


@attrs.frozen
class Emission:
    """An event to deliver once the request is done: snapshots of what the message is built from."""

    event_type: str
    client_id: str
    user: JSON | None = None  # the authenticated user (None for an anonymous shopper)
    anon_user_id: str | None = None  # the anonuserid of the shopper, if any
    order: JSON | None = None
    line: JSON | None = None
    lines: tuple[JSON, ...] = ()
    previous_quantity: int | None = None


class _Fail(Exception):
    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _fail(status: int, code: str, message: str, data: Any = None, **oauth: str) -> NoReturn:
    body: JSON = dict(oauth)
    body["Errors"] = [{"ErrorCode": code, "Message": message, "Data": data}]
    raise _Fail(status, body)


def _not_found(object_type: str, object_id: str) -> NoReturn:
    _fail(404, "NotFound", f"{object_type} {object_id} not found", {"ObjectType": object_type, "ObjectID": object_id})


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------- list queries

_RESERVED_PARAMS = frozenset(
    {"search", "searchOn", "searchType", "sortBy", "page", "pageSize", "from", "to", "pageKey"}
)


def _lookup(item: Mapping[str, Any], dotted: str) -> Any:
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(_json_default(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _text_key(text: str) -> tuple[str, str]:
    # Case-insensitive (like the equality and wildcard filters), ties broken by the exact text: one total
    # order shared by sortBy and the ``<``/``>`` filters, so LastID paging neither skips nor repeats.
    return text.casefold(), text


def _order_key(value: Any) -> tuple[int, Decimal, tuple[str, str]]:
    """Sort key of a stored value: numbers by value, everything else (IDs, dates, names) as text."""
    if _is_number(value):
        return 0, Decimal(str(value)), ("", "")
    return 1, Decimal(0), _text_key(_as_text(value))


def _compare(left: Any, right: str) -> int | None:
    if _is_number(left):
        try:
            a, b = Decimal(str(left)), Decimal(right)
        except (InvalidOperation, ValueError):
            pass
        else:
            return (a > b) - (a < b)
    a_key, b_key = _text_key(_as_text(left)), _text_key(right)
    return (a_key > b_key) - (a_key < b_key)


def _match_one(value: Any, expression: str) -> bool:
    negate = expression.startswith("!")
    if negate:
        expression = expression[1:]
    if expression == "*":
        result = value is not None and value != ""
    elif expression.startswith((">", "<")):
        result = value is not None and _compare(value, expression[1:]) == (1 if expression[0] == ">" else -1)
    elif "*" in expression:
        result = value is not None and fnmatch.fnmatchcase(_as_text(value).lower(), expression.lower())
    else:
        result = value is not None and _as_text(value).lower() == expression.lower()
    return not result if negate else result


def _matches(item: Mapping[str, Any], key: str, expression: str) -> bool:
    value = _lookup(item, key)
    return any(_match_one(value, alternative) for alternative in expression.split("|"))


def _sort_key(name: str) -> Callable[[JSON], tuple[bool, tuple[int, Decimal, tuple[str, str]]]]:
    def key(row: JSON) -> tuple[bool, tuple[int, Decimal, tuple[str, str]]]:
        value = _lookup(row, name)
        return value is None, _order_key(value if value is not None else "")

    return key


def list_page(
    items: Iterable[JSON],
    request: FakeRequest,
    *,
    searchable: Sequence[str],
    sortable: Sequence[str],
    filterable: Iterable[str],
    render: Callable[[JSON], JSON] = lambda item: item,
) -> JSON:
    """OrderCloud list semantics over stored JSON objects."""
    page_text, size_text = request.param("page") or "1", request.param("pageSize") or "20"
    try:
        page, page_size = int(page_text), int(size_text)
    except ValueError:
        _fail(400, "List.InvalidType", "page and pageSize must be whole numbers")
    if not 1 <= page_size <= 100:
        _fail(400, "List.InvalidPageSize", "pageSize must be between 1 and 100", {"PageSize": page_size})
    if page < 1:
        _fail(400, "List.InvalidType", "page must be 1 or more")
    rows = list(items)
    search = request.param("search")
    if search:
        fields = [f.strip() for f in (request.param("searchOn") or ",".join(searchable)).split(",") if f.strip()]
        for field in fields:
            if field not in searchable:
                _fail(400, "List.InvalidSearchProperty", f"{field} is not searchable", {"Property": field})
        needle = search.lower()
        rows = [row for row in rows if any(needle in _as_text(_lookup(row, f) or "").lower() for f in fields)]
    known = set(filterable)
    for key, expression in request.query:
        if key in _RESERVED_PARAMS:
            continue
        if key.split(".")[0] not in known:
            _fail(400, "List.InvalidProperty", f"{key} is not a valid filter property", {"Property": key})
        rows = [row for row in rows if _matches(row, key, expression)]
    sort_fields = [f.strip() for f in (request.param("sortBy") or "ID").split(",") if f.strip()]
    for field in reversed(sort_fields):
        descending = field.startswith("!")
        name = field.lstrip("!")
        if name not in sortable:
            _fail(400, "List.InvalidSortProperty", f"{name} is not sortable", {"Property": name})
        rows.sort(key=_sort_key(name), reverse=descending)
    total = len(rows)
    total_pages = (total + page_size - 1) // page_size
    start = (page - 1) * page_size
    chunk = rows[start : start + page_size]
    item_range = [start + 1, start + len(chunk)] if chunk else [0, 0]
    return {
        "Items": [render(row) for row in chunk],
        "Meta": {
            "Page": page,
            "PageSize": page_size,
            "TotalCount": total,
            "TotalPages": total_pages,
            "ItemRange": item_range,
            "NextPageKey": None,
        },
    }


# ----------------------------------------------------------------------------------------------- the API

Route = tuple[str, re.Pattern[str], Callable[..., FakeResponse]]


class FakeApi:
    """OrderCloud's behaviour over in-memory state. Thread-safe: one lock around every request."""

    def __init__(self, seed: Seed, clock: FakeClock, *, base_url: str) -> None:
        self.clock = clock
        self.base_url = base_url
        self.lock = threading.RLock()
        self.signer = Signer(secrets.token_bytes(32))
        self.ids = Ids()
        self.seed = seed
        self.api_clients: dict[str, JSON] = {}
        self.client_secrets: dict[str, str] = {}
        self.users: dict[str, JSON] = {}  # by user ID
        self.passwords: dict[str, str] = {}  # by user ID
        self.roles: dict[str, tuple[str, ...]] = {}  # by user ID
        self.user_types: dict[str, str] = {}  # by user ID
        self.products: dict[str, SeedProduct] = {}
        self.orders: dict[str, JSON] = {}
        self.order_meta: dict[str, JSON] = {}  # owner, client, anon id, cart flag
        self.line_items: dict[str, dict[str, JSON]] = {}
        self.tracking_events: dict[str, JSON] = {}
        self.delivery_configs: dict[str, JSON] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, TokenInfo] = {}
        self.anonymous_tokens_issued: list[TokenInfo] = []
        self._load(seed)
        self.routes: list[Route] = self._routes()

    # ------------------------------------------------------------------------------------- seeding
    def _load(self, seed: Seed) -> None:
        for user in seed.users:
            self.add_user(user)
        for client in seed.api_clients:
            self.add_api_client(client)
        for product in seed.products:
            self.products[product.id] = product

    def add_user(self, user: Any) -> str:
        user_id = user.id or self.ids.next("user")
        self.users[user_id] = {
            "ID": user_id,
            "CompanyID": "fake-marketplace" if user.user_type == "admin" else "fake-buyer",
            "Username": user.username,
            "FirstName": user.first_name,
            "LastName": user.last_name,
            "Email": user.email,
            "Phone": None,
            "TermsAccepted": None,
            "Active": user.active,
            "xp": dict(user.xp),
            "AvailableRoles": list(user.available_roles),
            "Locale": {
                "ID": f"locale-{user.language}",
                "OwnerID": None,
                "Currency": user.currency,
                "Language": user.language,
            },
            "DateCreated": self.clock.iso(),
            "LastActive": None,
            "PasswordLastSetDate": self.clock.iso(),
        }
        self.passwords[user_id] = user.password
        self.roles[user_id] = user.available_roles
        self.user_types[user_id] = user.user_type
        return user_id

    def add_api_client(self, client: Any) -> None:
        self.api_clients[client.id] = {
            "ID": client.id,
            "AppName": client.app_name,
            "Active": client.active,
            "AccessTokenDuration": client.access_token_duration,
            "RefreshTokenDuration": client.refresh_token_duration,
            "AnonymousTokenDuration": client.anonymous_token_duration,
            "DefaultContextUserName": client.default_context_username,
            "IsAnonBuyer": client.is_anon_buyer,
            "AllowAnyBuyer": client.allow_any_buyer,
            "AllowAnySupplier": False,
            "AllowSeller": client.allow_seller,
            "xp": {},
        }
        if client.client_secret:
            self.client_secrets[client.id] = client.client_secret

    def user_by_name(self, username: str) -> JSON | None:
        return next((u for u in self.users.values() if u["Username"] == username), None)

    # ------------------------------------------------------------------------------------ dispatch
    def handle(self, request: FakeRequest) -> tuple[FakeResponse, list[Emission]]:
        emissions: list[Emission] = []
        with self.lock:
            try:
                for method, pattern, handler in self.routes:
                    match = pattern.fullmatch(request.path)
                    if match is None:
                        continue
                    if method != request.method:
                        continue
                    return handler(request, emissions, **match.groupdict()), emissions
                # A method the fake lacks on a path it knows (``DELETE /v1/cart``, ``POST /v1/apiclients``) is a
                # real OrderCloud route too: it is "not implemented" (501), never a 405 that looks like OrderCloud's.
                _fail(
                    501,
                    "NotImplemented",
                    f"FakeOrderCloud does not implement {request.method} {request.path}",
                    {"Method": request.method, "Path": request.path},
                )
            except _Fail as failure:
                return FakeResponse(failure.status, failure.body), []

    def _routes(self) -> list[Route]:
        table: list[tuple[str, str, Callable[..., FakeResponse]]] = [
            ("POST", r"/oauth/token", self.token),
            ("GET", r"/v1/me", self.me_get),
            ("PUT", r"/v1/me/orders", self.me_transfer),
            ("GET", r"/v1/me/orders", self.me_list_orders),
            ("PUT", r"/v1/me/register", self.me_register),
            ("GET", r"/v1/cart", self.cart_get),
            ("GET", r"/v1/cart/lineitems", self.cart_list_lines),
            ("POST", r"/v1/cart/lineitems", self.cart_add_line),
            ("GET", r"/v1/cart/lineitems/(?P<line_id>[^/]+)", self.cart_get_line),
            ("PUT", r"/v1/cart/lineitems/(?P<line_id>[^/]+)", self.cart_save_line),
            ("PATCH", r"/v1/cart/lineitems/(?P<line_id>[^/]+)", self.cart_patch_line),
            ("DELETE", r"/v1/cart/lineitems/(?P<line_id>[^/]+)", self.cart_delete_line),
            ("PATCH", r"/v1/cart/fromuser", self.cart_from_user),
            ("POST", r"/v1/cart/submit", self.cart_submit),
            ("POST", r"/v1/orders/(?P<direction>[^/]+)", self.order_create),
            ("GET", r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)", self.order_get),
            ("GET", r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems", self.order_list_lines),
            ("POST", r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems", self.order_add_line),
            (
                "GET",
                r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems/(?P<line_id>[^/]+)",
                self.order_get_line,
            ),
            (
                "PUT",
                r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems/(?P<line_id>[^/]+)",
                self.order_save_line,
            ),
            (
                "PATCH",
                r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems/(?P<line_id>[^/]+)",
                self.order_patch_line,
            ),
            (
                "DELETE",
                r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/lineitems/(?P<line_id>[^/]+)",
                self.order_delete_line,
            ),
            ("POST", r"/v1/orders/(?P<direction>[^/]+)/(?P<order_id>[^/]+)/submit", self.order_submit),
            ("GET", r"/v1/apiclients", self.api_client_list),
            ("GET", r"/v1/apiclients/(?P<client_id>[^/]+)", self.api_client_get),
            ("PATCH", r"/v1/apiclients/(?P<client_id>[^/]+)", self.api_client_patch),
            ("GET", r"/v1/integrations/trackingEvents", self.te_list),
            ("POST", r"/v1/integrations/trackingEvents", self.te_create),
            ("GET", r"/v1/integrations/trackingEvents/(?P<event_id>[^/]+)", self.te_get),
            ("PUT", r"/v1/integrations/trackingEvents/(?P<event_id>[^/]+)", self.te_save),
            ("PATCH", r"/v1/integrations/trackingEvents/(?P<event_id>[^/]+)", self.te_patch),
            ("DELETE", r"/v1/integrations/trackingEvents/(?P<event_id>[^/]+)", self.te_delete),
            ("GET", r"/v1/integrations/deliveryconfig", self.dc_list),
            ("POST", r"/v1/integrations/deliveryconfig", self.dc_create),
            ("GET", r"/v1/integrations/deliveryconfig/(?P<config_id>[^/]+)", self.dc_get),
            ("PUT", r"/v1/integrations/deliveryconfig/(?P<config_id>[^/]+)", self.dc_save),
            ("PATCH", r"/v1/integrations/deliveryconfig/(?P<config_id>[^/]+)", self.dc_patch),
            ("DELETE", r"/v1/integrations/deliveryconfig/(?P<config_id>[^/]+)", self.dc_delete),
        ]
        return [(method, re.compile(path), handler) for method, path, handler in table]

    # --------------------------------------------------------------------------------------- tokens
    def _issue(self, info: TokenInfo, claims_extra: Mapping[str, Any] | None = None) -> str:
        now = self.clock.now()
        claims: JSON = {
            "usr": info.username,
            "cid": info.client_id,
            "u": info.user_id,
            "usrtype": info.user_type,
            "role": info.roles[0] if len(info.roles) == 1 else list(info.roles),
            "iss": "https://auth.ordercloud.io",
            "aud": self.base_url,
            "exp": int(info.expires_at),
            "nbf": int(now),
            "jti": secrets.token_hex(8),
        }
        if info.order_id:
            claims["orderid"] = info.order_id
        claims.update(claims_extra or {})
        token = self.signer.sign(claims)
        self.tokens[token] = info
        return token

    def _oauth_fail(self, error: str, description: str, code: str, status: int = 400) -> NoReturn:
        _fail(status, code, description, error=error, error_description=description)

    def token(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:  # noqa: RET503
        content_type = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in content_type:
            self._oauth_fail("invalid_request", "Please use x-www-form-urlencoded", "Request.InvalidContentType")
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        client = self.api_clients.get(form.get("client_id", ""))
        if client is None:
            self._oauth_fail("invalid_client", "Invalid client_id", "ApiClient.InvalidClientID")
        if not client["Active"]:
            self._oauth_fail("invalid_client", "The API client is not active", "Auth.ClientNotActive")
        secret = self.client_secrets.get(client["ID"])
        given_secret = form.get("client_secret")
        if secret is not None and given_secret is not None and not secrets.compare_digest(secret, given_secret):
            self._oauth_fail("invalid_client", "Invalid client secret", "Auth.InvalidClientSecret")
        scopes = tuple(form.get("scope", "").split())
        if grant_type == "password":
            if secret is not None and given_secret is None:
                self._oauth_fail(
                    "invalid_client", "This API client requires its client secret", "Auth.InvalidClientSecret"
                )
            username, password = form.get("username"), form.get("password")
            if not username or not password:
                self._oauth_fail(
                    "invalid_request", "Username and password are required", "Auth.UsernameAndPasswordRequired"
                )
            user = self.user_by_name(username)
            if user is None or not secrets.compare_digest(self.passwords[user["ID"]], password):
                self._oauth_fail("invalid_grant", "Invalid username or password", "Auth.InvalidUsernameOrPassword")
            if not user["Active"]:
                self._oauth_fail("invalid_grant", "User is not active", "Auth.UserNotActive")
            info = self._user_token(client, user, scopes)
            response = self._token_response(client, info, refresh=True)
            emissions.append(self._login_emission(info, anon_user_id=None))
            return response
        if grant_type == "client_credentials":
            context_user = self.user_by_name(client["DefaultContextUserName"] or "")
            if secret is not None and given_secret is not None:
                if context_user is None:
                    self._oauth_fail("invalid_grant", "The API client has no default context user", "Auth.OauthError")
                info = self._user_token(client, context_user, scopes)
                return self._token_response(client, info, refresh=True)
            if secret is not None:
                self._oauth_fail(
                    "invalid_client", "This API client requires its client secret", "Auth.InvalidClientSecret"
                )
            if not client["IsAnonBuyer"] or context_user is None or self.user_types[context_user["ID"]] != "buyer":
                self._oauth_fail(
                    "invalid_client", "Anonymous shopping is not enabled for this API client", "Auth.AnonUserProhibited"
                )
            return self._anonymous_token(client, context_user, scopes, form.get("anonuserid") or None)
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            held = self.refresh_tokens.get(refresh)
            if held is None or held.revoked or held.client_id != client["ID"] or held.expires_at <= self.clock.now():
                self._oauth_fail("invalid_grant", "Invalid or expired refresh token", "Auth.InvalidRefreshToken")
            del self.refresh_tokens[refresh]
            new_info = attrs.evolve(held, expires_at=self.clock.now() + client["AccessTokenDuration"] * 60)
            return self._token_response(client, new_info, refresh=True)
        self._oauth_fail("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}", "Auth.OauthError")

    def _granted(self, user_id: str, scopes: Sequence[str]) -> tuple[str, ...]:
        available = self.roles[user_id]
        granted = tuple(role for role in scopes if role in available)
        if not granted:
            _fail(
                400,
                "Auth.InsufficientRoles",
                "None of the requested roles are available to this user",
                {"RequestedRoles": list(scopes), "AvailableRoles": list(available)},
                error="invalid_scope",
                error_description="Insufficient roles",
            )
        return granted

    def _user_token(self, client: JSON, user: JSON, scopes: Sequence[str]) -> TokenInfo:
        return TokenInfo(
            client_id=client["ID"],
            user_id=user["ID"],
            username=user["Username"],
            user_type=self.user_types[user["ID"]],
            roles=self._granted(user["ID"], scopes),
            expires_at=self.clock.now() + client["AccessTokenDuration"] * 60,
        )

    def _token_response(self, client: JSON, info: TokenInfo, *, refresh: bool) -> FakeResponse:
        token = self._issue(info)
        body: JSON = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": round(info.expires_at - self.clock.now()),  # the duration, not a truncated 35999
            "refresh_token": None,
        }
        if refresh and client["RefreshTokenDuration"] > 0 and not info.anonymous:
            refresh_token = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = attrs.evolve(
                info, expires_at=self.clock.now() + client["RefreshTokenDuration"] * 60
            )
            body["refresh_token"] = refresh_token
        return FakeResponse(200, body)

    def _anonymous_token(
        self, client: JSON, template: JSON, scopes: Sequence[str], anon_user_id: str | None
    ) -> FakeResponse:
        temp_id = self.ids.next("anon-user")
        self.users[temp_id] = {**copy.deepcopy(template), "ID": temp_id, "Email": None, "xp": {}}
        self.passwords[temp_id] = secrets.token_hex(8)
        self.roles[temp_id] = self.roles[template["ID"]]
        self.user_types[temp_id] = "buyer"
        info = TokenInfo(
            client_id=client["ID"],
            user_id=temp_id,
            username=template["Username"],
            user_type="buyer",
            roles=self._granted(template["ID"], scopes),
            expires_at=self.clock.now() + client["AnonymousTokenDuration"] * 60,
            anonymous=True,
            order_id=self.ids.next("anon-order"),
            anon_user_id=anon_user_id,
        )
        self.anonymous_tokens_issued.append(info)
        return self._token_response(client, info, refresh=False)

    def revoke(self, token: str | None = None, *, user_id: str | None = None) -> int:
        """Revoke one token, or every token of a user; returns how many."""
        count = 0
        for store in (self.tokens, self.refresh_tokens):  # a user's refresh tokens go with their access tokens
            for value, info in store.items():
                if (token is not None and value == token) or (user_id is not None and info.user_id == user_id):
                    info.revoked = True
                    count += 1
        return count

    def authorize(self, request: FakeRequest, roles: Sequence[str]) -> TokenInfo:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            _fail(401, "InvalidToken", "Access token is missing. Send 'Authorization: Bearer {token}'.")
        info = self.tokens.get(token.strip())
        if info is None:
            _fail(401, "InvalidToken", "Access token is invalid.")
        if info.revoked:
            _fail(401, "Auth.TokenRevoked", "Access token has been revoked.")
        if info.expires_at <= self.clock.now():
            _fail(401, "InvalidToken", "Access token has expired.")
        if not any(role in info.roles for role in roles):
            _fail(
                403,
                "Auth.InsufficientRoles",
                "User does not have role(s) required to perform this action.",
                {"SufficientRoles": list(roles), "AssignedRoles": list(info.roles)},
            )
        return info

    # ------------------------------------------------------------------------------------------- me
    def me_get(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, ("FullAccess", "Shopper", "MeAdmin", "MeXpAdmin", "BuyerReader"))
        return FakeResponse(200, self._public_user(self.users[info.user_id]))

    def _public_user(self, user: JSON) -> JSON:
        return dict(user)

    def _order_user(self, user_id: str) -> JSON:
        user = self.users.get(user_id, {})
        return {
            k: user.get(k)
            for k in (
                "ID",
                "CompanyID",
                "Username",
                "FirstName",
                "LastName",
                "Email",
                "Phone",
                "Active",
                "xp",
                "Locale",
            )
        }

    def _anon_token_info(self, request: FakeRequest) -> tuple[str, TokenInfo]:
        token = request.param("anonUserToken")
        if not token:
            _fail(400, "ValidationFailure", "anonUserToken is required", {"Property": "anonUserToken"})
        info = self.tokens.get(token)
        if info is None or not info.anonymous or info.revoked or info.expires_at <= self.clock.now():
            _fail(
                400,
                "Auth.MustPassAnonUserToken",
                "The token provided is invalid. Please provide an anonymous user token and try again.",
            )
        return token, info

    def me_transfer(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        if info.anonymous:
            _fail(400, "Auth.AnonUserProhibited", "An anonymous user cannot take over another anonymous order.")
        _, anon = self._anon_token_info(request)
        if anon.order_id in self.orders:
            self._move_order(anon.order_id, info, anon)
        return FakeResponse(204)

    def _move_order(self, order_id: str, to: TokenInfo, anon: TokenInfo) -> None:
        order = self.orders[order_id]
        meta = self.order_meta[order_id]
        meta["owner"] = to.user_id
        meta["anon_user_id"] = meta.get("anon_user_id") or anon.anon_user_id
        order["FromUserID"] = to.user_id
        order["FromUser"] = self._order_user(to.user_id)
        self._reprice(order_id)

    def me_list_orders(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        mine = [o for oid, o in self.orders.items() if self._owns(info, oid)]
        body = list_page(mine, request, searchable=("ID",), sortable=ORDER_SORTABLE, filterable=ORDER_FIELDS)
        return FakeResponse(200, body)

    def me_register(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        if not info.anonymous:
            _fail(400, "User.IsNotTemp", "Only an anonymous (temporary) user can register.")
        _, anon = self._anon_token_info(request)
        body = request.json()
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A MeUser body is required.")
        for field in ("Username", "FirstName", "LastName", "Email", "Active"):
            if body.get(field) in (None, ""):
                _fail(400, "ValidationFailure", f"{field} is required", {"Property": field})
        if self.user_by_name(str(body["Username"])) is not None:
            _fail(409, "User.UsernameMustBeUnique", f"Username {body['Username']} is already taken")
        from ._state import SeedUser

        user_id = self.add_user(
            SeedUser(
                username=str(body["Username"]),
                password=str(body.get("Password") or secrets.token_hex(8)),
                first_name=str(body["FirstName"]),
                last_name=str(body["LastName"]),
                email=str(body["Email"]),
                active=bool(body["Active"]),
                xp=body.get("xp") or {},
            )
        )
        client = self.api_clients[info.client_id]
        new_info = self._user_token(client, self.users[user_id], info.roles)
        token = self._issue(new_info)
        if anon.order_id in self.orders:
            self._move_order(anon.order_id, new_info, anon)
        emissions.append(self._login_emission(new_info, anon_user_id=anon.anon_user_id))
        return FakeResponse(200, {"access_token": token})

    def _login_emission(self, info: TokenInfo, *, anon_user_id: str | None) -> Emission:
        user = copy.deepcopy(self.users[info.user_id])
        return Emission("UserLoggedIn", info.client_id, user=user, anon_user_id=anon_user_id)

    # --------------------------------------------------------------------------------------- orders
    def _owns(self, info: TokenInfo, order_id: str) -> bool:
        # An anonymous token reaches its ``orderid`` only while the order is still the anonymous user's:
        # once TransferAnonUserOrder (or Register) has moved it, the order is the new owner's alone.
        if info.anonymous and order_id != info.order_id:
            return False
        return self.order_meta.get(order_id, {}).get("owner") == info.user_id

    def _visible_order(self, info: TokenInfo, direction: str, order_id: str) -> JSON:
        direction = self._direction(direction)
        order = self.orders.get(order_id)
        if order is not None:
            if direction == "Outgoing" and self._owns(info, order_id):
                return order
            if direction in ("Incoming", "All") and any(r in info.roles for r in ORDER_ADMIN):
                return order
            if direction == "All" and self._owns(info, order_id):
                return order
        _not_found("Order", order_id)

    @staticmethod
    def _direction(direction: str) -> str:
        for valid in ("Incoming", "Outgoing", "All"):
            if direction.lower() == valid.lower():
                return valid
        _fail(400, "ValidationFailure", f"{direction} is not a valid order direction (Incoming, Outgoing, All)")

    def _new_order(self, info: TokenInfo, body: Mapping[str, Any] | None, *, order_id: str | None = None) -> JSON:
        body = body or {}
        if order_id is None:
            order_id = body.get("ID") or self.ids.next("order")
            if not isinstance(order_id, str) or not ID_RE.match(order_id):
                _fail(
                    400,
                    "ValidationFailure",
                    "ID may contain only letters, digits, - and _ (at most 100)",
                    {"Property": "ID"},
                )
        if order_id in self.orders:
            _fail(409, "IdExists", f"Order {order_id} already exists", {"ObjectType": "Order", "ObjectID": order_id})
        user = self.users[info.user_id]
        now = self.clock.iso()
        order: JSON = {
            "ID": order_id,
            "FromUser": self._order_user(info.user_id),
            "FromCompanyID": user.get("CompanyID"),
            "ToCompanyID": "fake-marketplace",
            "FromUserID": info.user_id,
            "BillingAddressID": None,
            "BillingAddress": None,
            "ShippingAddressID": None,
            "Comments": body.get("Comments"),
            "LineItemCount": 0,
            "Status": "Unsubmitted",
            "DateCreated": now,
            "DateSubmitted": None,
            "DateApproved": None,
            "DateDeclined": None,
            "DateCanceled": None,
            "DateCompleted": None,
            "LastUpdated": now,
            "Subtotal": Decimal(0),
            "ShippingCost": Decimal(0),
            "TaxCost": Decimal(0),
            "Gratuity": Decimal(0),
            "Fees": Decimal(0),
            "PromotionDiscount": Decimal(0),
            "Currency": (user.get("Locale") or {}).get("Currency") or self.seed.currency,
            "Total": Decimal(0),
            "IsSubmitted": False,
            "SubscriptionID": None,
            "xp": body.get("xp") or {},
        }
        self.orders[order_id] = order
        self.order_meta[order_id] = {"owner": info.user_id, "client": info.client_id, "anon_user_id": info.anon_user_id}
        self.line_items[order_id] = {}
        return order

    def order_create(self, request: FakeRequest, emissions: list[Emission], direction: str) -> FakeResponse:
        info = self.authorize(request, SHOPPER_WRITE)
        if self._direction(direction) != "Outgoing" and not any(r in info.roles for r in ORDER_ADMIN):
            _fail(403, "Auth.InsufficientRoles", f"Creating {direction} orders needs OrderAdmin")
        body = request.json()
        if body is not None and not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "An Order body is required.")
        order_id = info.order_id if info.anonymous else None
        return FakeResponse(201, self._new_order(info, body, order_id=order_id))

    def order_get(self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str) -> FakeResponse:
        info = self.authorize(request, SHOPPER_READ)
        return FakeResponse(200, self._visible_order(info, direction, order_id))

    def _reprice(self, order_id: str) -> None:
        order = self.orders[order_id]
        lines = self.line_items[order_id]
        subtotal = Decimal(0)
        for line in lines.values():
            product = self.products[line["ProductID"]]
            unit = product.unit_price(int(line["Quantity"]))
            line["UnitPrice"] = unit
            line["LineSubtotal"] = _money(unit * int(line["Quantity"]))
            line["LineTotal"] = _money(line["LineSubtotal"] - line["PromotionDiscount"])
            subtotal += line["LineSubtotal"]
        order["Subtotal"] = _money(subtotal)
        order["LineItemCount"] = len(lines)
        order["Total"] = _money(
            subtotal
            + order["TaxCost"]
            + order["ShippingCost"]
            + order["Gratuity"]
            + order["Fees"]
            - order["PromotionDiscount"]
        )
        order["LastUpdated"] = self.clock.iso()

    def _check_modifiable(self, order: JSON) -> None:
        if order["Status"] != "Unsubmitted":
            _fail(
                400,
                "Order.CannotModifySubmittedOrder",
                f"Order {order['ID']} is {order['Status']}; its line items cannot change.",
            )

    def _validate_line(self, body: Any, *, partial: bool, existing: JSON | None) -> JSON:
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A LineItem body is required.")
        product_id = body.get("ProductID", existing["ProductID"] if existing and partial else None)
        if not product_id:
            _fail(400, "ValidationFailure", "ProductID is required", {"Property": "ProductID"})
        if existing is not None and product_id != existing["ProductID"]:
            _fail(400, "LineItem.CannotChangeProductID", "The ProductID of a line item cannot change.")
        product = self.products.get(product_id)
        if product is None or not product.active:
            _not_found("Product", str(product_id))
        default_quantity = existing["Quantity"] if existing and partial else 1
        quantity = body.get("Quantity", default_quantity)
        if quantity is None:
            quantity = default_quantity
        if (
            not isinstance(quantity, (int, float))
            or isinstance(quantity, bool)
            or quantity < 1
            or int(quantity) != quantity
        ):
            _fail(
                400,
                "LineItem.QuantityMustBePositive",
                "Quantity must be a whole number of at least 1.",
                {"Quantity": quantity},
            )
        return {**body, "ProductID": product_id, "Quantity": int(quantity)}

    def _line_json(self, line_id: str, fields: JSON, *, existing: JSON | None) -> JSON:
        product = self.products[fields["ProductID"]]
        line: JSON = {
            "ID": line_id,
            "ProductID": product.id,
            "Quantity": fields["Quantity"],
            "BundleItemID": None,
            "IsBundle": False,
            "DateAdded": existing["DateAdded"] if existing else self.clock.iso(),
            "QuantityShipped": 0,
            "UnitPrice": Decimal(0),
            "PromotionDiscount": Decimal(0),
            "LineTotal": Decimal(0),
            "LineSubtotal": Decimal(0),
            "CostCenter": fields.get("CostCenter"),
            "DateNeeded": fields.get("DateNeeded"),
            "ShippingAccount": fields.get("ShippingAccount"),
            "ShippingAddressID": fields.get("ShippingAddressID"),
            "ShipFromAddressID": fields.get("ShipFromAddressID"),
            "Product": {
                "ID": product.id,
                "Name": product.name,
                "Description": product.description,
                "Returnable": False,
                "QuantityMultiplier": 1,
                "ShipWeight": None,
                "ShipHeight": None,
                "ShipWidth": None,
                "ShipLength": None,
                "DefaultSupplierID": None,
                "ParentID": None,
                "xp": dict(product.xp),
            },
            "Variant": None,
            "ShippingAddress": None,
            "ShipFromAddress": None,
            "SupplierID": None,
            "InventoryRecordID": None,
            "PriceScheduleID": f"ps-{product.id}",
            "IsOnSale": False,
            "PriceOverridden": False,
            "Specs": fields.get("Specs") or [],
            "IncomingOrderID": None,
            "OutgoingOrderID": None,
            "xp": fields.get("xp") or {},
        }
        return line

    def _order_emission(self, info: TokenInfo, event_type: str, order_id: str, **extra: Any) -> Emission:
        meta = self.order_meta[order_id]
        return Emission(
            event_type,
            info.client_id,
            user=None if info.anonymous else copy.deepcopy(self.users.get(meta["owner"])),
            anon_user_id=meta.get("anon_user_id"),
            order=copy.deepcopy(self.orders[order_id]),
            lines=tuple(copy.deepcopy(list(self.line_items[order_id].values()))),
            **extra,
        )

    def _line_event(
        self, info: TokenInfo, event_type: str, order_id: str, line_id: str, previous: int | None
    ) -> Emission:
        line = copy.deepcopy(self.line_items[order_id][line_id])
        return self._order_emission(info, event_type, order_id, line=line, previous_quantity=previous)

    def _add_line(self, info: TokenInfo, order_id: str, body: Any, emissions: list[Emission]) -> FakeResponse:
        order = self.orders[order_id]
        self._check_modifiable(order)
        fields = self._validate_line(body, partial=False, existing=None)
        line_id = fields.get("ID") or self.ids.next("li")
        if not isinstance(line_id, str) or not ID_RE.match(line_id):
            _fail(400, "ValidationFailure", "ID may contain only letters, digits, - and _", {"Property": "ID"})
        if line_id in self.line_items[order_id]:
            _fail(
                409, "IdExists", f"LineItem {line_id} already exists", {"ObjectType": "LineItem", "ObjectID": line_id}
            )
        self.line_items[order_id][line_id] = self._line_json(line_id, fields, existing=None)
        self._reprice(order_id)
        emissions.append(self._line_event(info, "LineItemAdded", order_id, line_id, None))
        return FakeResponse(201, self.line_items[order_id][line_id])

    def _change_line(
        self, info: TokenInfo, order_id: str, line_id: str, body: Any, emissions: list[Emission], *, partial: bool
    ) -> FakeResponse:
        order = self.orders[order_id]
        existing = self.line_items[order_id].get(line_id)
        if existing is None and partial:
            _not_found("LineItem", line_id)
        self._check_modifiable(order)
        if partial:
            merged = {**existing, **body} if isinstance(body, dict) and existing else body
            fields = self._validate_line(merged, partial=True, existing=existing)
        else:
            fields = self._validate_line(body, partial=False, existing=existing)
        previous = existing["Quantity"] if existing else None
        self.line_items[order_id][line_id] = self._line_json(line_id, fields, existing=existing)
        self._reprice(order_id)
        event = "LineItemUpdated" if existing is not None else "LineItemAdded"
        emissions.append(self._line_event(info, event, order_id, line_id, previous))
        return FakeResponse(200, self.line_items[order_id][line_id])

    def _delete_line(self, order_id: str, line_id: str) -> FakeResponse:
        order = self.orders[order_id]
        if line_id not in self.line_items[order_id]:
            _not_found("LineItem", line_id)
        self._check_modifiable(order)
        del self.line_items[order_id][line_id]
        self._reprice(order_id)
        return FakeResponse(204)

    def _get_line(self, order_id: str, line_id: str) -> FakeResponse:
        line = self.line_items[order_id].get(line_id)
        if line is None:
            _not_found("LineItem", line_id)
        return FakeResponse(200, line)

    def _list_lines(self, order_id: str, request: FakeRequest) -> FakeResponse:
        body = list_page(
            self.line_items[order_id].values(),
            request,
            searchable=("ID", "ProductID"),
            sortable=("DateAdded", "ID", "ProductID"),
            filterable=LINE_FIELDS,
        )
        return FakeResponse(200, body)

    def _submit(self, info: TokenInfo, order_id: str, emissions: list[Emission]) -> FakeResponse:
        order = self.orders[order_id]
        if order["Status"] != "Unsubmitted":
            _fail(
                400,
                "Order.CannotSubmitBadStatus",
                f"Order {order_id} has status {order['Status']} and cannot be submitted.",
            )
        if not self.line_items[order_id]:
            _fail(400, "Order.CannotSubmitWithNoLineItems", f"Order {order_id} has no line items.")
        now = self.clock.iso()
        order.update({"Status": "Open", "IsSubmitted": True, "DateSubmitted": now, "LastUpdated": now})
        emissions.append(self._order_emission(info, "OrderSubmitted", order_id))
        return FakeResponse(200, order)

    # line items under /v1/orders/{direction}/{orderID}
    def _order_access(self, request: FakeRequest, roles: Sequence[str], direction: str, order_id: str) -> TokenInfo:
        """The caller, after checking its roles and that the order is visible to it in ``direction``."""
        info = self.authorize(request, roles)
        self._visible_order(info, direction, order_id)
        return info

    def order_list_lines(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str
    ) -> FakeResponse:
        self._order_access(request, SHOPPER_READ, direction, order_id)
        return self._list_lines(order_id, request)

    def order_add_line(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str
    ) -> FakeResponse:
        info = self._order_access(request, SHOPPER_WRITE, direction, order_id)
        return self._add_line(info, order_id, request.json(), emissions)

    def order_get_line(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str, line_id: str
    ) -> FakeResponse:
        self._order_access(request, SHOPPER_READ, direction, order_id)
        return self._get_line(order_id, line_id)

    def order_save_line(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str, line_id: str
    ) -> FakeResponse:
        info = self._order_access(request, SHOPPER_WRITE, direction, order_id)
        return self._change_line(info, order_id, line_id, request.json(), emissions, partial=False)

    def order_patch_line(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str, line_id: str
    ) -> FakeResponse:
        info = self._order_access(request, SHOPPER_WRITE, direction, order_id)
        return self._change_line(info, order_id, line_id, request.json(), emissions, partial=True)

    def order_delete_line(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str, line_id: str
    ) -> FakeResponse:
        self._order_access(request, SHOPPER_WRITE, direction, order_id)
        return self._delete_line(order_id, line_id)

    def order_submit(
        self, request: FakeRequest, emissions: list[Emission], direction: str, order_id: str
    ) -> FakeResponse:
        info = self._order_access(request, SHOPPER_WRITE, direction, order_id)
        return self._submit(info, order_id, emissions)

    # ------------------------------------------------------------------------------------------ cart
    def _cart_id(self, info: TokenInfo) -> str | None:
        if info.anonymous:
            return info.order_id if info.order_id is not None and self._owns(info, info.order_id) else None
        mine = [
            oid
            for oid, order in self.orders.items()
            if self.order_meta[oid]["owner"] == info.user_id and order["Status"] == "Unsubmitted"
        ]
        return max(mine, key=lambda oid: (self.orders[oid]["DateCreated"], oid)) if mine else None

    def _cart_or_create(self, info: TokenInfo) -> str:
        order_id = self._cart_id(info)
        if order_id is None:
            order_id = self._new_order(info, None, order_id=info.order_id if info.anonymous else None)["ID"]
        return order_id

    def _cart(self, request: FakeRequest) -> tuple[TokenInfo, str]:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_id(info)
        if order_id is None:
            _not_found("Order", "cart")
        return info, order_id

    def cart_get(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_id(info)
        if order_id is not None:
            return FakeResponse(200, self.orders[order_id])
        user = self.users[info.user_id]
        return FakeResponse(
            200,
            {
                "ID": None,
                "FromUser": self._order_user(info.user_id),
                "FromUserID": info.user_id,
                "Status": "Unsubmitted",
                "LineItemCount": 0,
                "Subtotal": 0,
                "Total": 0,
                "IsSubmitted": False,
                "Currency": (user.get("Locale") or {}).get("Currency") or self.seed.currency,
                "xp": {},
            },
        )

    def cart_list_lines(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_id(info)
        if order_id is None:
            return FakeResponse(
                200,
                {
                    "Items": [],
                    "Meta": {
                        "Page": 1,
                        "PageSize": 20,
                        "TotalCount": 0,
                        "TotalPages": 0,
                        "ItemRange": [0, 0],
                        "NextPageKey": None,
                    },
                },
            )
        return self._list_lines(order_id, request)

    def cart_add_line(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        body = request.json()
        self._validate_line(body, partial=False, existing=None)  # before creating the cart
        return self._add_line(info, self._cart_or_create(info), body, emissions)

    def cart_get_line(self, request: FakeRequest, emissions: list[Emission], line_id: str) -> FakeResponse:
        _, order_id = self._cart(request)
        return self._get_line(order_id, line_id)

    def cart_save_line(self, request: FakeRequest, emissions: list[Emission], line_id: str) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_or_create(info)
        return self._change_line(info, order_id, line_id, request.json(), emissions, partial=False)

    def cart_patch_line(self, request: FakeRequest, emissions: list[Emission], line_id: str) -> FakeResponse:
        info, order_id = self._cart(request)
        return self._change_line(info, order_id, line_id, request.json(), emissions, partial=True)

    def cart_delete_line(self, request: FakeRequest, emissions: list[Emission], line_id: str) -> FakeResponse:
        _, order_id = self._cart(request)
        return self._delete_line(order_id, line_id)

    def cart_from_user(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_or_create(info)
        body = request.json()
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A User body is required.")
        order = self.orders[order_id]
        from_user = order["FromUser"] = dict(order["FromUser"] or {})
        for key in ("FirstName", "LastName", "Email"):
            if key in body:
                from_user[key] = body[key]
        return FakeResponse(200, order)

    def cart_submit(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        info = self.authorize(request, SHOPPER)
        order_id = self._cart_id(info)
        if order_id is None:
            _fail(400, "Order.CannotSubmitWithNoLineItems", "The cart has no line items.")
        return self._submit(info, order_id, emissions)

    # ----------------------------------------------------------------------------------- API clients
    def api_client_list(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        self.authorize(request, READ_API_CLIENTS)
        body = list_page(
            self.api_clients.values(),
            request,
            searchable=("ID", "AppName", "DefaultContextUserName"),
            sortable=("ID", "AppName"),
            filterable=API_CLIENT_FIELDS,
        )
        return FakeResponse(200, body)

    def api_client_get(self, request: FakeRequest, emissions: list[Emission], client_id: str) -> FakeResponse:
        self.authorize(request, READ_API_CLIENTS)
        client = self.api_clients.get(client_id)
        if client is None:
            _not_found("ApiClient", client_id)
        return FakeResponse(200, client)

    def api_client_patch(self, request: FakeRequest, emissions: list[Emission], client_id: str) -> FakeResponse:
        self.authorize(request, WRITE_API_CLIENTS)
        client = self.api_clients.get(client_id)
        if client is None:
            _not_found("ApiClient", client_id)
        body = request.json()
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "An ApiClient body is required.")
        updated = {**client, **{k: v for k, v in body.items() if k not in ("ID", "ClientSecret")}}
        if "ClientSecret" in body:
            if body["ClientSecret"]:
                self.client_secrets[client_id] = str(body["ClientSecret"])
            else:
                self.client_secrets.pop(client_id, None)
        if updated.get("IsAnonBuyer"):
            template = self.user_by_name(updated.get("DefaultContextUserName") or "")
            if template is None or self.user_types[template["ID"]] != "buyer":
                _fail(
                    400, "ApiClient.RequiredNotAnonBuyer", "IsAnonBuyer needs a buyer user as DefaultContextUserName."
                )
        self.api_clients[client_id] = updated
        return FakeResponse(200, updated)

    # -------------------------------------------------------------------------------- tracking events
    def te_list(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        self.authorize(request, READ_TE)
        body = list_page(
            self.tracking_events.values(),
            request,
            searchable=("ID", "EventType"),
            sortable=("ID", "EventType"),
            filterable=("ID", "EventType", "ClientID", "Name", "DeliveryConfigID", "ConfigData"),
        )
        return FakeResponse(200, body)

    def te_get(self, request: FakeRequest, emissions: list[Emission], event_id: str) -> FakeResponse:
        self.authorize(request, READ_TE)
        event = self.tracking_events.get(event_id)
        if event is None:
            _not_found("TrackingEvent", event_id)
        return FakeResponse(200, event)

    def _te_validate(self, body: Any, *, existing: JSON | None, event_id: str | None) -> JSON:
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A TrackingEvent body is required.")
        for field in ("EventType", "ClientID", "Name", "DeliveryConfigID"):
            if body.get(field) in (None, ""):
                _fail(400, "ValidationFailure", f"{field} is required", {"Property": field})
        new_id = body.get("ID") or event_id or self.ids.next("trackingevent")
        if not isinstance(new_id, str) or not ID_RE.match(new_id):
            _fail(
                400,
                "ValidationFailure",
                "ID may contain only letters, digits, - and _ (at most 100)",
                {"Property": "ID"},
            )
        if body["EventType"] not in TRACKING_EVENT_TYPES:
            _fail(
                400,
                "ValidationFailure",
                f"{body['EventType']} is not a valid TrackingEventType",
                {"Property": "EventType"},
            )
        if existing is not None:
            for field in ("ClientID", "EventType"):
                if body[field] != existing[field]:
                    _fail(400, "TrackingEvent.CannotUpdateProperty", f"{field} cannot be changed", {"Property": field})
        if body["ClientID"] not in self.api_clients:
            _fail(400, "TrackingEvent.InvalidClientID", f"API client {body['ClientID']} does not exist")
        if body["DeliveryConfigID"] not in self.delivery_configs:
            _fail(
                400,
                "TrackingEvent.InvalidDeliveryConfigID",
                f"Delivery config {body['DeliveryConfigID']} does not exist",
            )
        for other_id, other in self.tracking_events.items():
            if existing is not None and other_id == existing["ID"]:
                continue
            if other["ClientID"] == body["ClientID"] and other["EventType"] == body["EventType"]:
                _fail(
                    400,
                    "TrackingEvent.CannotCreateMultipleEventsOfSameType",
                    f"API client {body['ClientID']} already has a {body['EventType']} tracking event ({other_id}).",
                )
        config_data = body.get("ConfigData")
        return {
            "ID": new_id,
            "EventType": body["EventType"],
            "ClientID": body["ClientID"],
            "Name": body["Name"],
            "ConfigData": config_data,
            "DeliveryConfigID": body["DeliveryConfigID"],
        }

    def te_create(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        self.authorize(request, WRITE_TE)
        body = request.json()
        if isinstance(body, dict) and body.get("ID") in self.tracking_events:
            _fail(
                409,
                "IdExists",
                f"TrackingEvent {body['ID']} already exists",
                {"ObjectType": "TrackingEvent", "ObjectID": body["ID"]},
            )
        event = self._te_validate(body, existing=None, event_id=None)
        self.tracking_events[event["ID"]] = event
        return FakeResponse(201, event)

    def te_save(self, request: FakeRequest, emissions: list[Emission], event_id: str) -> FakeResponse:
        self.authorize(request, WRITE_TE)
        existing = self.tracking_events.get(event_id)
        body = request.json()
        event = self._te_validate(body, existing=existing, event_id=event_id)
        if event["ID"] != event_id:
            if event["ID"] in self.tracking_events:
                _fail(409, "IdExists", f"TrackingEvent {event['ID']} already exists")
            self.tracking_events.pop(event_id, None)
        self.tracking_events[event["ID"]] = event
        return FakeResponse(200, event)

    def te_patch(self, request: FakeRequest, emissions: list[Emission], event_id: str) -> FakeResponse:
        self.authorize(request, WRITE_TE)
        existing = self.tracking_events.get(event_id)
        if existing is None:
            _not_found("TrackingEvent", event_id)
        body = request.json()
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A TrackingEvent body is required.")
        event = self._te_validate({**existing, **body}, existing=existing, event_id=event_id)
        if event["ID"] != event_id:
            if event["ID"] in self.tracking_events:
                _fail(409, "IdExists", f"TrackingEvent {event['ID']} already exists")
            del self.tracking_events[event_id]
        self.tracking_events[event["ID"]] = event
        return FakeResponse(200, event)

    def te_delete(self, request: FakeRequest, emissions: list[Emission], event_id: str) -> FakeResponse:
        self.authorize(request, WRITE_TE)
        if self.tracking_events.pop(event_id, None) is None:
            _not_found("TrackingEvent", event_id)
        return FakeResponse(204)

    # -------------------------------------------------------------------------------- delivery configs
    @staticmethod
    def _public_config(config: JSON) -> JSON:
        public = copy.deepcopy(config)
        targets = public.get("DeliveryTargets") or {}
        for key, fields in WRITE_ONLY.items():
            target = targets.get(key)
            if isinstance(target, dict):
                for field in fields:
                    if field in target:
                        target[field] = None
        ingestion_http = ((targets.get("SearchIngestion") or {}).get("Content") or {}).get("Http")
        if isinstance(ingestion_http, dict) and "CustomAuthHeaderValue" in ingestion_http:
            ingestion_http["CustomAuthHeaderValue"] = None
        return public

    def _dc_validate(self, body: Any, *, config_id: str | None) -> JSON:
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A DeliveryConfig body is required.")
        name = body.get("Name")
        if not name:
            _fail(400, "ValidationFailure", "Name is required", {"Property": "Name"})
        if len(str(name)) > 128:
            _fail(400, "ValidationFailure", "Name can be at most 128 characters", {"Property": "Name"})
        targets = body.get("DeliveryTargets")
        if not isinstance(targets, dict):
            _fail(400, "ValidationFailure", "DeliveryTargets is required", {"Property": "DeliveryTargets"})
        for key, target in targets.items():
            if target is None:
                continue
            if not isinstance(target, dict):
                _fail(
                    400,
                    "ValidationFailure",
                    f"DeliveryTargets.{key} must be an object",
                    {"Property": f"DeliveryTargets.{key}"},
                )
            if key == "MessageSender" and "Endpoint" not in target and "EndPoint" in target:
                target["Endpoint"] = target.pop("EndPoint")
            for field in REQUIRED_TARGET_FIELDS.get(key, ()):
                if target.get(field) in (None, ""):
                    _fail(
                        400,
                        "ValidationFailure",
                        f"DeliveryTargets.{key}.{field} is required",
                        {"Property": f"DeliveryTargets.{key}.{field}"},
                    )
            for (target_key, field), limit in MAX_LENGTHS.items():
                if target_key == key and isinstance(target.get(field), str) and len(target[field]) > limit:
                    _fail(
                        400,
                        "ValidationFailure",
                        f"DeliveryTargets.{key}.{field} can be at most {limit} characters",
                        {"Property": f"DeliveryTargets.{key}.{field}"},
                    )
            if key == "Http":
                has_name, has_value = (
                    bool(target.get("CustomAuthHeaderName")),
                    bool(target.get("CustomAuthHeaderValue")),
                )
                if has_value and not has_name:
                    _fail(
                        400, "Integration.CustomAuthHeaderNameRequired", "CustomAuthHeaderName is required with a value"
                    )
                if has_name and not has_value:
                    _fail(
                        400,
                        "Integration.CustomAuthHeaderValueRequired",
                        "CustomAuthHeaderValue is required with a name",
                    )
        new_id = body.get("ID") or config_id or self.ids.next("deliveryconfig")
        if not isinstance(new_id, str) or not ID_RE.match(new_id):
            _fail(
                400,
                "ValidationFailure",
                "ID may contain only letters, digits, - and _ (at most 100)",
                {"Property": "ID"},
            )
        return {**body, "ID": new_id, "Name": name, "Enabled": body.get("Enabled", True), "DeliveryTargets": targets}

    def dc_list(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        self.authorize(request, DELIVERY)
        body = list_page(  # filtered as read: a write-only secret is not a filter oracle either
            [self._public_config(config) for config in self.delivery_configs.values()],
            request,
            searchable=("ID", "Name"),
            sortable=("ID", "Name"),
            filterable=("ID", "Name", "Enabled", "DeliveryTargets"),
        )
        return FakeResponse(200, body)

    def dc_get(self, request: FakeRequest, emissions: list[Emission], config_id: str) -> FakeResponse:
        self.authorize(request, DELIVERY)
        config = self.delivery_configs.get(config_id)
        if config is None:
            _not_found("DeliveryConfig", config_id)
        return FakeResponse(200, self._public_config(config))

    def dc_create(self, request: FakeRequest, emissions: list[Emission]) -> FakeResponse:
        self.authorize(request, DELIVERY)
        body = request.json()
        if isinstance(body, dict) and body.get("ID") in self.delivery_configs:
            _fail(
                409,
                "IdExists",
                f"DeliveryConfig {body['ID']} already exists",
                {"ObjectType": "DeliveryConfig", "ObjectID": body["ID"]},
            )
        config = self._dc_validate(body, config_id=None)
        self.delivery_configs[config["ID"]] = config
        return FakeResponse(201, self._public_config(config))

    def dc_save(self, request: FakeRequest, emissions: list[Emission], config_id: str) -> FakeResponse:
        self.authorize(request, DELIVERY)
        config = self._dc_validate(request.json(), config_id=config_id)
        if config["ID"] != config_id:
            if config["ID"] in self.delivery_configs:
                _fail(409, "IdExists", f"DeliveryConfig {config['ID']} already exists")
            self._rename_config(config_id, config["ID"])
        self.delivery_configs[config["ID"]] = config
        return FakeResponse(200, self._public_config(config))

    def _rename_config(self, old: str, new: str) -> None:
        if self.delivery_configs.pop(old, None) is not None:
            for event in self.tracking_events.values():
                if event["DeliveryConfigID"] == old:
                    event["DeliveryConfigID"] = new

    def dc_patch(self, request: FakeRequest, emissions: list[Emission], config_id: str) -> FakeResponse:
        self.authorize(request, DELIVERY)
        existing = self.delivery_configs.get(config_id)
        if existing is None:
            _not_found("DeliveryConfig", config_id)
        body = request.json()
        if not isinstance(body, dict):
            _fail(400, "Request.InvalidRequestBody", "A DeliveryConfig body is required.")
        config = self._dc_validate(_deep_merge(existing, body), config_id=config_id)
        if config["ID"] != config_id:
            if config["ID"] in self.delivery_configs:
                _fail(409, "IdExists", f"DeliveryConfig {config['ID']} already exists")
            self._rename_config(config_id, config["ID"])
        self.delivery_configs[config["ID"]] = config
        return FakeResponse(200, self._public_config(config))

    def dc_delete(self, request: FakeRequest, emissions: list[Emission], config_id: str) -> FakeResponse:
        self.authorize(request, DELIVERY)
        if config_id not in self.delivery_configs:
            _not_found("DeliveryConfig", config_id)
        users = [e["ID"] for e in self.tracking_events.values() if e["DeliveryConfigID"] == config_id]
        if users:
            _fail(
                400,
                "DeliveryConfig.CannotDeleteConfigInUse",
                f"Delivery config {config_id} is used by {', '.join(sorted(users))}",
                {"TrackingEventIDs": users},
            )
        del self.delivery_configs[config_id]
        return FakeResponse(204)


def _deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> JSON:
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


ORDER_FIELDS = (
    "ID",
    "FromUser",
    "FromCompanyID",
    "ToCompanyID",
    "FromUserID",
    "Comments",
    "LineItemCount",
    "Status",
    "DateCreated",
    "DateSubmitted",
    "LastUpdated",
    "Subtotal",
    "Total",
    "IsSubmitted",
    "Currency",
    "xp",
)
ORDER_SORTABLE = ("ID", "DateCreated", "DateSubmitted", "Status", "Total", "Subtotal", "LastUpdated")
LINE_FIELDS = ("ID", "ProductID", "Quantity", "DateAdded", "UnitPrice", "LineTotal", "LineSubtotal", "Product", "xp")
API_CLIENT_FIELDS = ("ID", "AppName", "Active", "DefaultContextUserName", "IsAnonBuyer", "xp")
