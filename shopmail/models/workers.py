"""The worker processes that are alive: each beats every few seconds while it runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.extensions import db
from shopmail.models.types import UTCDateTime


class WorkerHeartbeat(db.Model):
    """One row per running worker (named as its claims and session leases are: host:pid).
    A row whose beat is old belongs to a worker that died: its claims are taken over."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
