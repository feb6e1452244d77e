"""Progress of a verification in bytes checked, reported to an optional callback without flooding it."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


class Meter:
    """Counts bytes verified out of ``total`` and calls ``callback(done, total)`` about every 0.1%."""

    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._callback = callback
        self._step = max(self.total // 1000, 1 << 20)
        self._next = self._step

    def advance(self, amount: int) -> None:
        self.done = min(self.done + amount, self.total)
        if self._callback is not None and self.done >= self._next:
            self._next = self.done + self._step
            self._callback(self.done, self.total)

    def finish(self) -> None:
        self.done = self.total
        if self._callback is not None:
            self._callback(self.total, self.total)
