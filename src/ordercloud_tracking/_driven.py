"""How this package drives a generator of steps: one class for the flows (``_flow``), the auth drivers
(``_auth``) and the Kafka consumers' records (``streams``). It imports nothing of the package, so any module
can use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Driven"]

R = TypeVar("R")
S = TypeVar("S")


class Driven(Generic[S, R]):
    """A generator an executor drives: ``step`` is what it yielded last, ``None`` once it returned ``value``;
    ``send`` a result or ``throw`` an exception in to resume it. An exception that leaves the ``with`` block
    while a step is pending is thrown in (the generator cleans up: claims, locks, spans); then it is closed.
    """

    __slots__ = ("_gen", "step", "value")

    def __init__(self, gen: Generator[S, Any, R]) -> None:
        self._gen = gen
        self.step: S | None = None
        self.value: R
        self.send(None)

    def send(self, result: object) -> None:
        self._resume(self._gen.send, result)

    def throw(self, error: BaseException) -> None:
        self._resume(self._gen.throw, error)

    def _resume(self, resume: Callable[[Any], S], arg: object) -> None:
        self.step = None  # while it runs: if it raises, nothing is pending
        try:
            self.step = resume(arg)
        except StopIteration as done:
            self.value = done.value

    def __enter__(self) -> Driven[S, R]:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        try:
            if exc is not None and self.step is not None:
                with contextlib.suppress(StopIteration):
                    self._gen.throw(exc)  # re-raises exc, which goes on out of the with block
        except BaseException as raised:
            if raised is not exc:
                raise
        finally:
            self._gen.close()
