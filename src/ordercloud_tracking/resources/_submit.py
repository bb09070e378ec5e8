"""Submitting is never doubled: the one flow behind ``cart.submit`` and ``orders.submit`` (sync and async).

OrderCloud has no idempotency key, so a submit whose outcome is unknown (read timeout, connection
dropped after sending, 5xx) is never resent. Instead the order is read once: submitted → that order is
the result; otherwise :class:`~ordercloud_tracking.AmbiguousSubmitError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import AmbiguousSubmitError, APIConnectionError, InternalServerError, OrderCloudError
from .._flow import Flow, call, run_async, run_sync
from .._requests import RequestSpec
from ..models.commerce import Order, OrderStatus

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["is_ambiguous", "resolve_submit", "submit_async", "submit_flow", "submit_sync"]


def submit_flow(
    client: SyncAPIClient | AsyncAPIClient, submit: RequestSpec, check: RequestSpec | None, order_id: str | None
) -> Flow[Order]:
    """POST ``submit``; if the outcome is unknown, GET ``check`` once and settle it (never resend)."""
    try:
        return (yield from call(client._request, submit, Order))
    except OrderCloudError as exc:
        if check is None or order_id is None or not is_ambiguous(exc):
            raise
        cause = exc
    try:
        checked = yield from call(client._request, check, Order)
    except OrderCloudError as check_error:
        return resolve_submit(order_id, _direction(check), cause, None, check_error)
    return resolve_submit(order_id, _direction(check), cause, checked)


def submit_sync(client: SyncAPIClient, submit: RequestSpec, check: RequestSpec | None, order_id: str | None) -> Order:
    """:func:`submit_flow` on the sync client."""
    return run_sync(submit_flow(client, submit, check, order_id))


async def submit_async(
    client: AsyncAPIClient, submit: RequestSpec, check: RequestSpec | None, order_id: str | None
) -> Order:
    """:func:`submit_flow` on the async client."""
    return await run_async(submit_flow(client, submit, check, order_id))


def _direction(check: RequestSpec) -> str:
    return check.path.split("/")[1]  # orders/{direction}/{orderID}


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed submit may nevertheless have been processed by OrderCloud."""
    if isinstance(exc, APIConnectionError):
        return exc.may_have_reached_server
    return isinstance(exc, InternalServerError)


def is_submitted(order: Order) -> bool:
    if order.is_submitted:
        return True
    return order.status is not None and order.status != OrderStatus.UNSUBMITTED


def resolve_submit(
    order_id: str,
    direction: str | None,
    cause: OrderCloudError,
    checked: Order | None,
    check_error: BaseException | None = None,
) -> Order:
    """The submitted order, or :class:`AmbiguousSubmitError` saying what the check saw."""
    if checked is not None and is_submitted(checked):
        return checked
    if checked is not None:
        status = checked.status.value if checked.status is not None else "unknown"
        detail = f"the order is not submitted (Status {status}); it is safe to submit it again"
    else:
        detail = f"checking the order failed too ({type(check_error).__name__}); its state is unknown"
    raise AmbiguousSubmitError(
        f"Submitting order {order_id} failed ({cause}) and {detail}",
        order_id=order_id,
        direction=direction,
        order=checked,
        cause=cause,
    ) from cause
