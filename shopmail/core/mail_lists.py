"""What a list of mails shows: one store or all, one kind or all, of the kinds the list holds —
read from the page's query (the send queue, the history, the bounces page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopmail.models import Message


@dataclass(frozen=True)
class MailFilter:
    kinds: tuple[str, ...]  # the kinds this list holds
    store_id: int | None = None
    kind: str | None = None

    @classmethod
    def parse(cls, kinds: Sequence[str], store: str | None, kind: str | None) -> MailFilter:
        store_id = int(store) if store and store.isdigit() else None
        return cls(tuple(kinds), store_id, kind if kind in kinds else None)

    def apply(self, query):
        query = query.where(Message.kind.in_(self.kinds))
        if self.store_id is not None:
            query = query.where(Message.store_id == self.store_id)
        if self.kind is not None:
            query = query.where(Message.kind == self.kind)
        return query
