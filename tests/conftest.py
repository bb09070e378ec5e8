"""Shared fixtures: JWT helpers and a client factory wired to pytest-httpx."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from hypothesis import HealthCheck, settings

# The suite runs on 2 shared cores (CI included): a property test is judged by what it finds, never by how fast
# this machine generated its examples.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")


def make_jwt(claims: dict[str, Any] | None = None, *, exp_in: float = 600.0, **extra: Any) -> str:
    """An unsigned JWT with OrderCloud-like claims (the SDK never checks signatures)."""
    payload: dict[str, Any] = {
        "usr": "user",
        "cid": "client-id",
        "u": "1234",
        "usrtype": "buyer",
        "role": ["Shopper"],
        "iss": "https://auth.ordercloud.io",
        "aud": "https://api.ordercloud.io",
        "exp": int(time.time() + exp_in),
        "nbf": int(time.time() - 5),
    }
    payload.update(claims or {})
    payload.update(extra)

    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{enc(payload)}.c2lnbmF0dXJl"
