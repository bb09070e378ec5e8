"""OAuth and identity: the token endpoint (password, client credentials, anonymous, refresh) and the Me routes
that change who the shopper is (``GET /v1/me``, Register, TransferAnonUserOrder)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import attrs

from ._orders import move_order
from ._seed import SeedUser
from ._state import Emission, State, TokenInfo
from ._wire import JSON, FakeRequest, FakeResponse, fail

__all__ = ["SHOPPER", "me_get", "me_register", "me_transfer", "token"]

SHOPPER = ("FullAccess", "Shopper")


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison of two secrets of any script (``compare_digest`` takes ASCII ``str`` only)."""
    return secrets.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _issue(state: State, info: TokenInfo) -> str:
    now = state.clock.now()
    claims: JSON = {
        "usr": info.username,
        "cid": info.client_id,
        "u": info.user_id,
        "usrtype": info.user_type,
        "role": info.roles[0] if len(info.roles) == 1 else list(info.roles),
        "iss": "https://auth.ordercloud.io",
        "aud": state.base_url,
        "exp": int(info.expires_at),
        "nbf": int(now),
        "jti": secrets.token_hex(8),
    }
    if info.order_id:
        claims["orderid"] = info.order_id
    token = state.signer.sign(claims)
    state.tokens[token] = info
    return token


def _oauth_fail(error: str, description: str, code: str, status: int = 400) -> NoReturn:
    fail(status, code, description, error=error, error_description=description)


def _require_secret(secret: str | None, given: str | None) -> None:
    if secret is not None and given is None:
        _oauth_fail("invalid_client", "This API client requires its client secret", "Auth.InvalidClientSecret")


def token(state: State, request: FakeRequest) -> FakeResponse:
    """``POST /oauth/token``."""
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" not in content_type:
        _oauth_fail("invalid_request", "Please use x-www-form-urlencoded", "Request.InvalidContentType")
    form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    grant_type = form.get("grant_type", "")
    client = state.api_clients.get(form.get("client_id", ""))
    if client is None:
        _oauth_fail("invalid_client", "Invalid client_id", "ApiClient.InvalidClientID")
    if not client["Active"]:
        _oauth_fail("invalid_client", "The API client is not active", "Auth.ClientNotActive")
    secret = state.client_secrets.get(client["ID"])
    given_secret = form.get("client_secret")
    if secret is not None and given_secret is not None and not _same(secret, given_secret):
        _oauth_fail("invalid_client", "Invalid client secret", "Auth.InvalidClientSecret")
    scopes = tuple(form.get("scope", "").split())
    if grant_type == "password":
        _require_secret(secret, given_secret)
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            _oauth_fail("invalid_request", "Username and password are required", "Auth.UsernameAndPasswordRequired")
        user = state.user_by_name(username)
        if user is None or not _same(state.passwords[user["ID"]], password):
            _oauth_fail("invalid_grant", "Invalid username or password", "Auth.InvalidUsernameOrPassword")
        if not user["Active"]:
            _oauth_fail("invalid_grant", "User is not active", "Auth.UserNotActive")
        info = _user_token(state, client, user, scopes)
        response = _token_response(state, client, info, refresh=True)
        state.outbox.append(_login_emission(state, info, anon_user_id=None))
        return response
    if grant_type == "client_credentials":
        context_user = state.user_by_name(client["DefaultContextUserName"] or "")
        if secret is not None and given_secret is not None:
            if context_user is None:
                _oauth_fail("invalid_grant", "The API client has no default context user", "Auth.OauthError")
            info = _user_token(state, client, context_user, scopes)
            return _token_response(state, client, info, refresh=True)
        _require_secret(secret, given_secret)
        if not client["IsAnonBuyer"] or context_user is None or state.user_types[context_user["ID"]] != "buyer":
            _oauth_fail(
                "invalid_client", "Anonymous shopping is not enabled for this API client", "Auth.AnonUserProhibited"
            )
        return _anonymous_token(state, client, context_user, scopes, form.get("anonuserid") or None)
    if grant_type == "refresh_token":
        _require_secret(secret, given_secret)  # on every grant when the client has one (reference §15)
        refresh = form.get("refresh_token", "")
        held = state.refresh_tokens.get(refresh)
        if held is None or held.revoked or held.client_id != client["ID"] or held.expires_at <= state.clock.now():
            _oauth_fail("invalid_grant", "Invalid or expired refresh token", "Auth.InvalidRefreshToken")
        del state.refresh_tokens[refresh]
        new_info = attrs.evolve(held, expires_at=state.clock.now() + client["AccessTokenDuration"] * 60)
        return _token_response(state, client, new_info, refresh=True)
    _oauth_fail("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}", "Auth.OauthError")


def _granted(state: State, user_id: str, scopes: Sequence[str]) -> tuple[str, ...]:
    available = state.roles[user_id]
    if not scopes:  # no ``scope``: every role assigned (reference §15)
        return tuple(available)
    granted = tuple(role for role in scopes if role in available)
    if not granted:
        fail(
            400,
            "Auth.InsufficientRoles",
            "None of the requested roles are available to this user",
            {"RequestedRoles": list(scopes), "AvailableRoles": list(available)},
            error="invalid_scope",
            error_description="Insufficient roles",
        )
    return granted


def _user_token(state: State, client: JSON, user: JSON, scopes: Sequence[str]) -> TokenInfo:
    return TokenInfo(
        client_id=client["ID"],
        user_id=user["ID"],
        username=user["Username"],
        user_type=state.user_types[user["ID"]],
        roles=_granted(state, user["ID"], scopes),
        expires_at=state.clock.now() + client["AccessTokenDuration"] * 60,
    )


def _token_response(state: State, client: JSON, info: TokenInfo, *, refresh: bool) -> FakeResponse:
    body: JSON = {
        "access_token": _issue(state, info),
        "token_type": "bearer",
        "expires_in": round(info.expires_at - state.clock.now()),  # the duration, not a truncated 35999
        "refresh_token": None,
    }
    if refresh and client["RefreshTokenDuration"] > 0 and not info.anonymous:
        refresh_token = secrets.token_urlsafe(24)
        state.refresh_tokens[refresh_token] = attrs.evolve(
            info, expires_at=state.clock.now() + client["RefreshTokenDuration"] * 60
        )
        body["refresh_token"] = refresh_token
    return FakeResponse(200, body)


def _anonymous_token(
    state: State, client: JSON, template: JSON, scopes: Sequence[str], anon_user_id: str | None
) -> FakeResponse:
    temp_id = state.ids.next("anon-user")
    state.users[temp_id] = {**copy.deepcopy(template), "ID": temp_id, "Email": None, "xp": {}}
    state.passwords[temp_id] = secrets.token_hex(8)
    state.roles[temp_id] = state.roles[template["ID"]]
    state.user_types[temp_id] = "buyer"
    info = TokenInfo(
        client_id=client["ID"],
        user_id=temp_id,
        username=template["Username"],
        user_type="buyer",
        roles=_granted(state, template["ID"], scopes),
        expires_at=state.clock.now() + client["AnonymousTokenDuration"] * 60,
        anonymous=True,
        order_id=state.ids.next("anon-order"),
        anon_user_id=anon_user_id,
    )
    state.anonymous_tokens_issued.append(info)
    return _token_response(state, client, info, refresh=False)


def _login_emission(state: State, info: TokenInfo, *, anon_user_id: str | None) -> Emission:
    return Emission("UserLoggedIn", info.client_id, user=state.user_snapshot(info.user_id), anon_user_id=anon_user_id)


# ------------------------------------------------------------------------------------------------- me


def me_get(state: State, request: FakeRequest) -> FakeResponse:
    """``GET /v1/me``."""
    info = state.authorize(request, ("FullAccess", "Shopper", "MeAdmin", "MeXpAdmin", "BuyerReader"))
    return FakeResponse(200, dict(state.users[info.user_id]))


def _anon_token_info(state: State, request: FakeRequest) -> TokenInfo:
    token = request.param("anonUserToken")
    if not token:
        fail(400, "ValidationFailure", "anonUserToken is required", {"Property": "anonUserToken"})
    info = state.tokens.get(token)
    if info is None or not info.anonymous or info.revoked or info.expires_at <= state.clock.now():
        fail(
            400,
            "Auth.MustPassAnonUserToken",
            "The token provided is invalid. Please provide an anonymous user token and try again.",
        )
    return info


def me_transfer(state: State, request: FakeRequest) -> FakeResponse:
    """``PUT /v1/me/orders?anonUserToken=…`` (TransferAnonUserOrder)."""
    info = state.authorize(request, SHOPPER)
    if info.anonymous:
        fail(400, "Auth.AnonUserProhibited", "An anonymous user cannot take over another anonymous order.")
    anon = _anon_token_info(state, request)
    if anon.order_id in state.orders:
        move_order(state, anon.order_id, info, anon)
    return FakeResponse(204)


def _text(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        fail(400, "ValidationFailure", f"{field} is required (text)", {"Property": field})
    return value


def me_register(state: State, request: FakeRequest) -> FakeResponse:
    """``PUT /v1/me/register?anonUserToken=…``: the anonymous shopper becomes a user (and logs in)."""
    info = state.authorize(request, SHOPPER)
    if not info.anonymous:
        fail(400, "User.IsNotTemp", "Only an anonymous (temporary) user can register.")
    anon = _anon_token_info(state, request)
    body = request.json()
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "A MeUser body is required.")
    username, first, last, email = (_text(body, f) for f in ("Username", "FirstName", "LastName", "Email"))
    if not isinstance(body.get("Active"), bool):
        fail(400, "ValidationFailure", "Active is required (true or false)", {"Property": "Active"})
    xp = body.get("xp") or {}
    if not isinstance(xp, dict):
        fail(400, "ValidationFailure", "xp must be an object", {"Property": "xp"})
    if state.user_by_name(username) is not None:
        fail(409, "User.UsernameMustBeUnique", f"Username {username} is already taken")
    password = body.get("Password") or secrets.token_hex(8)
    if not isinstance(password, str):
        fail(400, "ValidationFailure", "Password must be text", {"Property": "Password"})
    user_id = state.add_user(
        SeedUser(username, password, first_name=first, last_name=last, email=email, active=body["Active"], xp=xp)
    )
    client = state.api_clients[info.client_id]
    new_info = _user_token(state, client, state.users[user_id], info.roles)
    token = _issue(state, new_info)
    if anon.order_id in state.orders:
        move_order(state, anon.order_id, new_info, anon)
    state.outbox.append(_login_emission(state, new_info, anon_user_id=anon.anon_user_id))
    return FakeResponse(200, {"access_token": token})
