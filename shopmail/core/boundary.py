"""Where a transaction ends (DESIGN.md: services flush; the boundary commits).

The boundaries are the request (`web.end_transaction`), the job (`dispatch.DeskJob`), the CLI
command (`cli`) — and the send loop, which commits per chunk because rows must be visibly
`sending` before the SMTP transaction and `sent` right after the 250. A function that may
commit says so with `@commits(reason)`; tests/unit/test_layout_rules.py fails on a
`session.commit()` anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def commits(reason: str) -> Callable[[F], F]:
    """Mark a function as a transaction boundary: it may call `session.commit()`."""

    def mark(func: F) -> F:
        func.commits = reason  # type: ignore[attr-defined]
        return func

    return mark
