"""FakeOrderCloud's OAuth: grants, JWT claims, expiry on the fake's clock, revocation, errors and roles."""

from __future__ import annotations

import time
from typing import Any

import attrs
import pytest

from ordercloud_tracking import (
    AnonymousGrant,
    AuthenticationError,
    ClientCredentials,
    OrderCloud,
    PasswordGrant,
    PermissionDeniedError,
    StaticToken,
    TokenError,
    decode_token,
)
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    SeedApiClient,
    SeedUser,
)
from tests.testing.support import (
    admin_token,
    error_code,
    password_token,
    raw,
    token_response,
)

REFRESHING = "refreshing-client"


def token_forms(fake: FakeOrderCloud) -> list[dict[str, str]]:
    """The form of every token request the fake received, in order."""
    from urllib.parse import parse_qsl

    return [dict(parse_qsl(entry.body.decode())) for entry in fake.requests_to("POST", "/oauth/token")]


def add_refreshing_client(fake: FakeOrderCloud, *, refresh_minutes: int = 60) -> None:
    fake.add_api_client(
        SeedApiClient(
            REFRESHING,
            app_name="Refreshing storefront",
            access_token_duration=10,
            refresh_token_duration=refresh_minutes,
        )
    )


def real_clock_client(fake: FakeOrderCloud, grant: Any = None) -> OrderCloud:
    """A client whose token cache reads real time, so it cannot know the fake's clock moved."""
    policy = attrs.evolve(fake.retry_policy(), clock=time.time)
    return fake.client(grant, retry_policy=policy)


# ------------------------------------------------------------------------------------------------ grants


def test_client_credentials_acts_as_the_default_context_user(fake: FakeOrderCloud) -> None:
    response = token_response(
        fake,
        {
            "grant_type": "client_credentials",
            "client_id": ADMIN_CLIENT_ID,
            "client_secret": ADMIN_CLIENT_SECRET,
            "scope": "FullAccess",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 600 * 60  # AccessTokenDuration is in minutes
    assert not body.get("refresh_token")  # RefreshTokenDuration is 0 on the seed clients
    claims = decode_token(body["access_token"])
    assert (claims.usr, claims.cid, claims.u, claims.usrtype) == ("admin", ADMIN_CLIENT_ID, "admin-user", "admin")
    assert claims.claims["role"] == "FullAccess"  # one role: a plain string
    assert claims.orderid is None
    assert not claims.is_anonymous
    assert claims.iss == "https://auth.ordercloud.io"
    assert claims.aud == fake.base_url


def test_several_roles_are_a_list_claim(fake: FakeOrderCloud) -> None:
    grant = ClientCredentials(
        ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, scopes=("TrackingEventAdmin", "DeliveryConfigAdmin")
    )
    with fake.client(grant) as client:
        claims = decode_token(client.get_access_token())
    assert claims.claims["role"] == ["TrackingEventAdmin", "DeliveryConfigAdmin"]
    assert claims.role == ["TrackingEventAdmin", "DeliveryConfigAdmin"]


def test_roles_not_available_to_the_user_are_not_granted(fake: FakeOrderCloud) -> None:
    grant = PasswordGrant(STOREFRONT_CLIENT_ID, "jane", "jane-password", scopes=("Shopper", "FullAccess"))
    with fake.client(grant) as client:
        claims = decode_token(client.get_access_token())
    assert claims.claims["role"] == "Shopper"


def test_anonymous_grant_records_anonuserid_and_carries_an_orderid(fake: FakeOrderCloud) -> None:
    with fake.client(AnonymousGrant(STOREFRONT_CLIENT_ID, anon_user_id="beacon-1")) as client:
        token = client.get_access_token()
    with fake.client(AnonymousGrant(STOREFRONT_CLIENT_ID)) as client:
        other = client.get_access_token()
    assert fake.anonymous_users == ["beacon-1", None]
    claims, other_claims = decode_token(token), decode_token(other)
    assert claims.is_anonymous
    assert claims.orderid
    assert other_claims.orderid
    assert claims.orderid != other_claims.orderid
    assert (claims.cid, claims.usrtype, claims.claims["role"]) == (STOREFRONT_CLIENT_ID, "buyer", "Shopper")
    assert claims.u != other_claims.u  # each anonymous token is its own temporary user
    form = token_forms(fake)[0]
    assert form["anonuserid"] == "beacon-1"
    assert "client_secret" not in form


def test_anonymous_tokens_last_the_anonymous_duration_and_never_refresh(fake: FakeOrderCloud) -> None:
    fake.add_api_client(
        SeedApiClient(
            "anon-refreshing",
            is_anon_buyer=True,
            default_context_username="anon-template",
            refresh_token_duration=60,
            anonymous_token_duration=30,
        )
    )
    response = token_response(
        fake, {"grant_type": "client_credentials", "client_id": "anon-refreshing", "scope": "Shopper"}
    )
    body = response.json()
    assert body["expires_in"] == 30 * 60
    assert not body.get("refresh_token")
    exp = decode_token(body["access_token"]).exp
    assert exp is not None
    assert abs(exp - (fake.clock.now() + 30 * 60)) <= 2


def test_password_grant_acts_as_the_user(fake: FakeOrderCloud) -> None:
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "jane", "jane-password", scopes=("Shopper",))) as jane:
        claims = decode_token(jane.get_access_token())
        me = jane.me.get()
    assert (claims.usr, claims.u, claims.usrtype, claims.orderid) == ("jane", "buyer-jane", "buyer", None)
    assert (me.id, me.username, me.email) == ("buyer-jane", "jane", "jane@example.com")


def test_password_grant_with_the_client_secret(fake: FakeOrderCloud) -> None:
    grant = PasswordGrant(ADMIN_CLIENT_ID, "admin", "admin-password", client_secret=ADMIN_CLIENT_SECRET)
    with fake.client(grant) as client:
        assert client.me.get().username == "admin"


def test_refresh_token_grant_when_the_client_allows_it(fake: FakeOrderCloud) -> None:
    add_refreshing_client(fake)
    grant = PasswordGrant(REFRESHING, "jane", "jane-password", scopes=("Shopper",))
    with fake.client(grant) as jane:
        first = jane.get_access_token()
        fake.clock.advance(11 * 60)  # past the 10-minute access token
        assert jane.me.get().username == "jane"
        second = jane.get_access_token()
    assert first != second
    grants = [form["grant_type"] for form in token_forms(fake)]
    assert grants == ["password", "refresh_token"]
    refresh_form = token_forms(fake)[1]
    assert set(refresh_form) == {"grant_type", "client_id", "refresh_token"}
    assert decode_token(second).usr == "jane"


def test_refresh_tokens_are_single_use_and_per_client(fake: FakeOrderCloud) -> None:
    add_refreshing_client(fake)
    form = {"grant_type": "password", "client_id": REFRESHING, "username": "jane", "password": "jane-password"}
    issued = token_response(fake, {**form, "scope": "Shopper"}).json()
    refresh = issued["refresh_token"]
    assert refresh
    wrong_client = token_response(
        fake, {"grant_type": "refresh_token", "client_id": STOREFRONT_CLIENT_ID, "refresh_token": refresh}
    )
    assert wrong_client.status_code == 400
    assert wrong_client.json()["error"] == "invalid_grant"
    used = token_response(fake, {"grant_type": "refresh_token", "client_id": REFRESHING, "refresh_token": refresh})
    assert used.status_code == 200
    assert used.json()["refresh_token"] not in (None, refresh)  # rotated
    again = token_response(fake, {"grant_type": "refresh_token", "client_id": REFRESHING, "refresh_token": refresh})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_an_expired_refresh_token_falls_back_to_the_password_grant(fake: FakeOrderCloud) -> None:
    add_refreshing_client(fake, refresh_minutes=20)
    with fake.client(PasswordGrant(REFRESHING, "jane", "jane-password", scopes=("Shopper",))) as jane:
        jane.get_access_token()
        fake.clock.advance(21 * 60)  # access and refresh token both expired
        assert jane.me.get().username == "jane"
    grants = [form["grant_type"] for form in token_forms(fake)]
    statuses = [entry.status for entry in fake.requests_to("POST", "/oauth/token")]
    assert grants == ["password", "refresh_token", "password"]
    assert statuses == [200, 400, 200]


# ------------------------------------------------------------------------------------------- expiry


def test_an_expired_token_is_a_401(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    assert raw(fake, "GET", "/v1/me", token=token).status_code == 200
    fake.clock.advance(600 * 60 + 1)
    response = raw(fake, "GET", "/v1/me", token=token)
    assert response.status_code == 401
    assert error_code(response) == "InvalidToken"


def test_exp_claim_follows_the_fake_clock(fake: FakeOrderCloud) -> None:
    fake.clock.advance(86_400)
    before = fake.clock.now()
    claims = decode_token(admin_token(fake))
    after = fake.clock.now()
    assert claims.exp is not None
    assert claims.nbf is not None
    assert before - 1 <= claims.nbf <= after  # issued at the fake's time (whole seconds), however slow the machine
    assert claims.exp - claims.nbf == pytest.approx(600 * 60, abs=1)


def test_sdk_replays_once_with_a_new_token_after_a_401(fake: FakeOrderCloud) -> None:
    with real_clock_client(fake) as client:
        client.me.get()
        fake.clock.advance(600 * 60 + 1)  # the SDK does not know: its cache reads real time
        assert client.me.get().username == "admin"
    journal = [(entry.method, entry.path, entry.status) for entry in fake.requests]
    assert journal == [
        ("POST", "/oauth/token", 200),
        ("GET", "/v1/me", 200),
        ("GET", "/v1/me", 401),
        ("POST", "/oauth/token", 200),
        ("GET", "/v1/me", 200),
    ]


def test_sdk_on_the_fake_clock_renews_before_expiry_without_a_401(fake: FakeOrderCloud) -> None:
    with fake.client() as client:
        client.me.get()
        fake.clock.advance(600 * 60 - 30)  # inside the SDK's refresh skew, still valid for the fake
        client.me.get()
    assert [entry.status for entry in fake.requests] == [200, 200, 200, 200]
    assert len(fake.requests_to("POST", "/oauth/token")) == 2


def test_a_second_401_after_the_replay_is_raised(fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", "/v1/me", status=401, times=2, body={"Errors": [{"ErrorCode": "InvalidToken"}]})
    with fake.client() as client, pytest.raises(AuthenticationError) as caught:
        client.me.get()
    assert caught.value.status_code == 401
    assert len(fake.requests_to("GET", "/v1/me")) == 2


def test_a_static_expired_token_is_an_authentication_error(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    fake.clock.advance(600 * 60 + 1)
    with real_clock_client(fake, StaticToken(token)) as client, pytest.raises(AuthenticationError) as caught:
        client.me.get()
    assert caught.value.error_code == "InvalidToken"


# ---------------------------------------------------------------------------------------- revocation


def test_revoking_a_token(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    assert fake.revoke(token) == 1
    response = raw(fake, "GET", "/v1/me", token=token)
    assert response.status_code == 401
    assert error_code(response) == "Auth.TokenRevoked"


def test_revoking_every_token_of_a_user(fake: FakeOrderCloud) -> None:
    first, second = password_token(fake, "jane", "jane-password"), password_token(fake, "jane", "jane-password")
    john = password_token(fake, "john", "john-password")
    assert fake.revoke(username="jane") == 2
    assert raw(fake, "GET", "/v1/me", token=first).status_code == 401
    assert raw(fake, "GET", "/v1/me", token=second).status_code == 401
    assert raw(fake, "GET", "/v1/me", token=john).status_code == 200
    assert fake.revoke(username="nobody") == 0


def test_revoking_a_user_revokes_their_refresh_tokens(fake: FakeOrderCloud) -> None:
    add_refreshing_client(fake)
    issued = token_response(
        fake,
        {
            "grant_type": "password",
            "client_id": REFRESHING,
            "username": "jane",
            "password": "jane-password",
            "scope": "Shopper",
        },
    ).json()
    assert fake.revoke(username="jane") == 2  # the access token and the refresh token
    refreshed = token_response(
        fake, {"grant_type": "refresh_token", "client_id": REFRESHING, "refresh_token": issued["refresh_token"]}
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_sdk_recovers_from_a_revoked_token(fake: FakeOrderCloud) -> None:
    with fake.client() as client:
        fake.revoke(client.get_access_token())
        assert client.me.get().username == "admin"
    with fake.client(StaticToken(admin_token(fake))) as static:
        fake.revoke(static.get_access_token())
        with pytest.raises(AuthenticationError) as caught:
            static.me.get()
    assert caught.value.error_code == "Auth.TokenRevoked"


# ------------------------------------------------------------------------------------------ bad grants


def test_wrong_password(fake: FakeOrderCloud) -> None:
    grant = PasswordGrant(STOREFRONT_CLIENT_ID, "jane", "nope", scopes=("Shopper",))
    with fake.client(grant) as client, pytest.raises(TokenError) as caught:
        client.me.get()
    error = caught.value
    assert error.status_code == 400
    assert error.error_code == "Auth.InvalidUsernameOrPassword"
    assert error.error == "invalid_grant"
    assert error.error_description
    assert len(fake.requests) == 1  # a refused grant is not retried, and the API call is never sent


def test_unknown_user_is_the_same_error_as_a_wrong_password(fake: FakeOrderCloud) -> None:
    response = token_response(
        fake,
        {"grant_type": "password", "client_id": STOREFRONT_CLIENT_ID, "username": "ghost", "password": "x"},
    )
    assert response.status_code == 400
    assert error_code(response) == "Auth.InvalidUsernameOrPassword"


def test_unknown_client(fake: FakeOrderCloud) -> None:
    with fake.client(ClientCredentials("no-such-client", "secret")) as client, pytest.raises(TokenError) as caught:
        client.get_access_token()
    assert caught.value.error == "invalid_client"
    assert caught.value.error_code == "ApiClient.InvalidClientID"


@pytest.mark.parametrize(
    "grant",
    [
        PasswordGrant(ADMIN_CLIENT_ID, "admin", "admin-password"),  # the client has a secret: required on every grant
        AnonymousGrant(ADMIN_CLIENT_ID),  # client_credentials without the secret
        ClientCredentials(ADMIN_CLIENT_ID, "wrong-secret"),
    ],
    ids=["password-without-secret", "anonymous-without-secret", "wrong-secret"],
)
def test_missing_or_wrong_client_secret(fake: FakeOrderCloud, grant: Any) -> None:
    with fake.client(grant) as client, pytest.raises(TokenError) as caught:
        client.get_access_token()
    assert caught.value.status_code == 400
    assert caught.value.error == "invalid_client"
    assert caught.value.error_code == "Auth.InvalidClientSecret"


def test_anonymous_grant_needs_an_anonymous_buyer_client(fake: FakeOrderCloud) -> None:
    fake.add_api_client(SeedApiClient("not-anonymous", default_context_username="jane"))
    with fake.client(AnonymousGrant("not-anonymous")) as client, pytest.raises(TokenError) as caught:
        client.get_access_token()
    assert caught.value.error_code == "Auth.AnonUserProhibited"


def test_wrong_content_type(fake: FakeOrderCloud) -> None:
    response = raw(
        fake,
        "POST",
        "/oauth/token",
        json_body={"grant_type": "client_credentials", "client_id": ADMIN_CLIENT_ID, "client_secret": "x"},
    )
    assert response.status_code == 400
    assert error_code(response) == "Request.InvalidContentType"
    assert response.json()["error"] == "invalid_request"  # the auth endpoint adds OAuth fields to every error


@pytest.mark.parametrize(
    ("form", "oauth_error", "code"),
    [
        (
            {"grant_type": "password", "client_id": STOREFRONT_CLIENT_ID},
            "invalid_request",
            "Auth.UsernameAndPasswordRequired",
        ),
        ({"grant_type": "magic", "client_id": STOREFRONT_CLIENT_ID}, "unsupported_grant_type", "Auth.OauthError"),
        ({"grant_type": "client_credentials", "client_id": ""}, "invalid_client", "ApiClient.InvalidClientID"),
        (
            {"grant_type": "refresh_token", "client_id": STOREFRONT_CLIENT_ID, "refresh_token": "made-up"},
            "invalid_grant",
            "Auth.InvalidRefreshToken",
        ),
    ],
)
def test_oauth_error_bodies(fake: FakeOrderCloud, form: dict[str, str], oauth_error: str, code: str) -> None:
    response = token_response(fake, form)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == oauth_error
    assert body["error_description"]
    assert body["Errors"][0]["ErrorCode"] == code
    assert set(body["Errors"][0]) == {"ErrorCode", "Message", "Data"}


def test_inactive_user_and_inactive_client(fake: FakeOrderCloud) -> None:
    fake.add_user(SeedUser("sleepy", "sleepy-password", active=False))
    fake.add_api_client(
        SeedApiClient("retired", is_anon_buyer=True, default_context_username="anon-template", active=False)
    )
    user = token_response(
        fake,
        {
            "grant_type": "password",
            "client_id": STOREFRONT_CLIENT_ID,
            "username": "sleepy",
            "password": "sleepy-password",
            "scope": "Shopper",
        },
    )
    client = token_response(fake, {"grant_type": "client_credentials", "client_id": "retired", "scope": "Shopper"})
    assert (user.status_code, error_code(user)) == (400, "Auth.UserNotActive")
    assert (client.status_code, error_code(client)) == (400, "Auth.ClientNotActive")


# ----------------------------------------------------------------------------------------------- 401 / 403


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_401_without_a_valid_token(fake: FakeOrderCloud, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = raw(fake, "GET", "/v1/integrations/trackingEvents", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "InvalidToken"


def test_tokens_of_another_fake_are_not_accepted(fake: FakeOrderCloud) -> None:
    other = FakeOrderCloud()
    response = raw(fake, "GET", "/v1/me", token=admin_token(other))
    assert response.status_code == 401


def test_a_shopper_token_on_tracking_events_is_forbidden(fake: FakeOrderCloud) -> None:
    shopper = fake.shopper(anon_user_id="beacon-1")
    with pytest.raises(PermissionDeniedError) as caught:
        shopper.client.tracking_events.list()
    assert caught.value.status_code == 403
    assert caught.value.error_code == "Auth.InsufficientRoles"
    data = caught.value.errors[0].data
    assert data["AssignedRoles"] == ["Shopper"]
    assert "TrackingEventReader" in data["SufficientRoles"]


ROLE_MATRIX: list[tuple[str, str, str, bool]] = [
    # (role, method, path, allowed) per reference §1.6
    ("TrackingEventReader", "GET", "/v1/integrations/trackingEvents", True),
    ("TrackingEventReader", "POST", "/v1/integrations/trackingEvents", False),
    ("TrackingEventReader", "DELETE", "/v1/integrations/trackingEvents/te-1", False),
    ("TrackingEventAdmin", "GET", "/v1/integrations/trackingEvents", True),
    ("TrackingEventAdmin", "PATCH", "/v1/integrations/trackingEvents/te-1", True),
    ("TrackingEventAdmin", "GET", "/v1/integrations/deliveryconfig", False),
    ("DeliveryConfigAdmin", "GET", "/v1/integrations/deliveryconfig", True),
    ("DeliveryConfigAdmin", "POST", "/v1/integrations/deliveryconfig", True),
    ("DeliveryConfigAdmin", "GET", "/v1/integrations/trackingEvents", False),
    ("FullAccess", "GET", "/v1/integrations/trackingEvents", True),
    ("FullAccess", "GET", "/v1/integrations/deliveryconfig", True),
    ("FullAccess", "GET", "/v1/cart", True),
    ("Shopper", "GET", "/v1/cart", True),
    ("Shopper", "PUT", "/v1/me/orders", True),
    ("TrackingEventAdmin", "GET", "/v1/cart", False),
    ("TrackingEventAdmin", "PUT", "/v1/me/orders", False),
]


@pytest.mark.parametrize(("role", "method", "path", "allowed"), ROLE_MATRIX)
def test_roles(fake: FakeOrderCloud, role: str, method: str, path: str, allowed: bool) -> None:
    token = admin_token(fake, scope=role)
    response = raw(fake, method, path, token=token, json_body={})
    if allowed:
        assert response.status_code != 403, response.text  # past the role check (it may fail validation)
    else:
        assert response.status_code == 403
        assert error_code(response) == "Auth.InsufficientRoles"
