"""Every sync/async twin offers the same public surface: the clients, each resource and the shopper sessions.

The twins are written out (as httpx and anthropic do) rather than generated, so this is what keeps them
from drifting apart: the same public methods and properties, each method with the same parameters
(names, kinds and defaults), the same method kinds (plain, classmethod, staticmethod, property), and the
async twin's I/O methods awaitable where the sync twin's return a value.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import ordercloud_tracking.resources
from ordercloud_tracking import AsyncOrderCloud, OrderCloud
from ordercloud_tracking.identity import AsyncShopperSession, ShopperSession

# Names only one twin has, on purpose.
ONLY_ASYNC: dict[type, set[str]] = {AsyncOrderCloud: {"aclose"}}  # httpx's name for close() on async clients


def _resource_pairs() -> list[tuple[type, type]]:
    """Every ``AsyncX`` class in ``ordercloud_tracking.resources.*`` with its sync twin ``X``."""
    pairs = []
    for info in pkgutil.iter_modules(ordercloud_tracking.resources.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"ordercloud_tracking.resources.{info.name}")
        for name, cls in vars(module).items():
            if name.startswith("Async") and isinstance(cls, type) and cls.__module__ == module.__name__:
                pairs.append((getattr(module, name.removeprefix("Async")), cls))
    return pairs


PAIRS: list[tuple[type, type]] = [
    (OrderCloud, AsyncOrderCloud),
    (ShopperSession, AsyncShopperSession),
    *_resource_pairs(),
]


def _public(cls: type) -> dict[str, Any]:
    """Public members (own or inherited, not ``object``'s) as found on the class, without binding."""
    names = {name for klass in cls.__mro__[:-1] for name in vars(klass) if not name.startswith("_")}
    return {name: inspect.getattr_static(cls, name) for name in names}


def _kind(member: Any) -> str:
    return type(member).__name__ if isinstance(member, (classmethod, staticmethod, property)) else "attribute"


def _function(member: Any) -> Any:
    if isinstance(member, (classmethod, staticmethod)):
        return member.__func__
    if isinstance(member, property):
        return member.fget
    return member


def _parameters(function: Any) -> list[tuple[str, str, Any, Any]]:
    # ``**options: Unpack[RequestOptions]`` stands for keywords: the TypedDict it names is part of the parameters.
    return [
        (p.name, p.kind.name, p.default, p.annotation if p.kind is p.VAR_KEYWORD else None)
        for p in inspect.signature(function).parameters.values()
    ]


def test_every_resource_module_has_its_pairs() -> None:
    names = {sync.__name__ for sync, _ in _resource_pairs()}
    assert {"TrackingEvents", "DeliveryConfigs", "Me", "Cart", "Orders", "ApiClients"} <= names


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=[sync.__name__ for sync, _ in PAIRS])
def test_twins_offer_the_same_public_methods_and_parameters(sync: type, async_: type) -> None:
    sync_members, async_members = _public(sync), _public(async_)

    assert sorted(sync_members) == sorted(set(async_members) - ONLY_ASYNC.get(async_, set()))
    for name, member in sync_members.items():
        twin = async_members[name]
        assert _kind(member) == _kind(twin), name
        if not callable(_function(member)):
            continue  # a plain class attribute (annotations only) has no signature
        assert _parameters(_function(member)) == _parameters(_function(twin)), f"{sync.__name__}.{name}"


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=[sync.__name__ for sync, _ in PAIRS])
def test_the_async_twin_awaits_what_the_sync_twin_returns(sync: type, async_: type) -> None:
    for name, member in _public(sync).items():
        function = _function(member)
        if not callable(function):
            continue
        assert not inspect.iscoroutinefunction(function), f"{sync.__name__}.{name} is async"
        twin = _function(_public(async_)[name])
        returns = inspect.signature(function).return_annotation
        twin_returns = inspect.signature(twin).return_annotation
        if inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin):
            continue
        # A method the async twin does not await returns the same thing, or its async twin (an AsyncIterator).
        assert twin_returns in (returns, f"Async{returns}"), f"{async_.__name__}.{name}"
