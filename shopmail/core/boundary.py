"""Where a transaction ends (DESIGN.md: services flush; the boundary commits).

The boundaries are the request (`web.end_transaction`), the job (`dispatch.DeskJob`), the CLI
command (`cli`), one received bounce report (`in_transaction`) — and the send loop, which
commits per chunk because rows must be visibly `sending` before the SMTP transaction and `sent`
right after the 250. A function that may commit says so with `@commits(reason)`;
tests/unit/test_layout_rules.py fails on a `session.commit()` anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable)
R = TypeVar("R")


def commits(reason: str) -> Callable[[F], F]:
    """Mark a function as a transaction boundary: it may call `session.commit()`."""

    def mark(func: F) -> F:
        func.commits = reason  # type: ignore[attr-defined]
        return func

    return mark


@commits(
    "one unit of work outside a request or a job, such as a report the bounce endpoint received "
    "or a message read from the bounce mailbox: committed before the sender hears 250 or the "
    "mailbox marks it read, rolled back when it raises"
)
def in_transaction(work: Callable[..., R], *args: Any) -> R:
    """Run `work(*args)` as one transaction and commit it."""
    from shopmail.extensions import db

    try:
        result = work(*args)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result
