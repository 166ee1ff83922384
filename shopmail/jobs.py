"""RQ entry points: thin — ids in, one service call, nothing else.

`schedule` lists the periodic jobs the cron scheduler in worker.py enqueues.
"""

from __future__ import annotations

from rq.cron import CronScheduler


def schedule(cron: CronScheduler, prefix: str) -> None:
    """Register the periodic jobs. Every one is idempotent, so a double run changes nothing."""
