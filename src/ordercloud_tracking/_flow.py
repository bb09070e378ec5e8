"""One driver for every flow that has a sync and an async twin.

A flow is written once, as a generator over either client. It yields :class:`Call` objects (a bound
method of :class:`~ordercloud_tracking.OrderCloud` or :class:`~ordercloud_tracking.AsyncOrderCloud` with
its arguments) and gets back each call's result, or its exception raised at the ``yield``.
:func:`run_sync` performs the calls; :func:`run_async` awaits them. The auth flow in ``_auth.py`` works
the same way, and so do the Kafka consumers' records: each executor holds its generator in a
:class:`~ordercloud_tracking._driven.Driven`.

A flow takes each result with ``yield from``, so the result is typed as the method's return type (after
``await`` for the async client)::

    def rename(client: OrderCloud | AsyncOrderCloud, event_id: str) -> Flow[str]:
        event = yield from call(client.tracking_events.get, event_id)   # a TrackingEvent
        return event.name
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeAlias, TypeVar, overload

import attrs

from ._driven import Driven

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["Call", "Flow", "call", "drive", "run_async", "run_sync"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
R = TypeVar("R")
P = ParamSpec("P")


@attrs.frozen
class Call(Generic[T_co]):
    """One call a flow needs: ``fn(*args, **kwargs)``, whose result (awaited, for the async client) is a ``T_co``."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = attrs.field(default=(), repr=False)
    kwargs: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    def __iter__(self) -> Generator[Call[Any], Any, T_co]:
        result: T_co = yield self  # the runner sends the result back (or throws the exception in)
        return result


Flow: TypeAlias = Generator[Call[Any], Any, R]
"""A flow returning ``R``: ``x = yield from call(...)`` for each call, then ``return`` the result."""


@overload
def call(fn: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs) -> Call[T]: ...
@overload
def call(fn: Callable[P, Coroutine[Any, Any, T]] | Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Call[T]: ...
def call(fn: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> Call[Any]:
    """``fn(*args, **kwargs)`` as a typed step of a flow: ``result = yield from call(fn, ...)``."""
    return Call(fn, args, kwargs)


def run_sync(flow: Flow[R]) -> R:
    """Run a flow built on :class:`~ordercloud_tracking.OrderCloud`, performing each call as it comes."""
    with Driven(flow) as run:
        while (step := run.step) is not None:
            try:
                result = step.fn(*step.args, **step.kwargs)
            except Exception as exc:
                run.throw(exc)
            else:
                run.send(result)
    return run.value


async def run_async(flow: Flow[R]) -> R:
    """Run a flow built on :class:`~ordercloud_tracking.AsyncOrderCloud`, awaiting each call as it comes."""
    with Driven(flow) as run:
        while (step := run.step) is not None:
            try:
                pending = step.fn(*step.args, **step.kwargs)
                result = await pending if inspect.isawaitable(pending) else pending
            except Exception as exc:
                run.throw(exc)
            else:
                run.send(result)
    return run.value


def drive(client: SyncAPIClient | AsyncAPIClient, flow: Flow[R]) -> R | Coroutine[Any, Any, R]:
    """``run_sync(flow)`` for the sync client; for the async client, the coroutine ``run_async(flow)``."""
    from ._base_client import AsyncAPIClient

    return run_async(flow) if isinstance(client, AsyncAPIClient) else run_sync(flow)
