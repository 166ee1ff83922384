"""SQLAlchemy models, a module per area; importing this package registers them all."""

from shopmail.models.audit import AuditEntry
from shopmail.models.bounces import BounceReceipt
from shopmail.models.broadcasts import Broadcast, QuotaMonth, RecordMailing
from shopmail.models.commerce import Order, OrderLine, Quote, QuoteLine, Shipment
from shopmail.models.dkim import DkimKey
from shopmail.models.members import Member
from shopmail.models.outbox import Message
from shopmail.models.relays import RelaySend, RelaySession, RelayState
from shopmail.models.stores import DeskSettings, KindSetting, Store
from shopmail.models.templates import (
    BroadcastTemplate,
    OrderMailTemplate,
    RecordMailTemplate,
    TemplateVersion,
)
from shopmail.models.users import ApiToken, User
from shopmail.models.workers import WorkerHeartbeat

__all__ = [
    "ApiToken",
    "AuditEntry",
    "BounceReceipt",
    "Broadcast",
    "BroadcastTemplate",
    "DeskSettings",
    "DkimKey",
    "KindSetting",
    "Member",
    "Message",
    "Order",
    "OrderLine",
    "OrderMailTemplate",
    "QuotaMonth",
    "Quote",
    "QuoteLine",
    "RecordMailTemplate",
    "RecordMailing",
    "RelaySend",
    "RelaySession",
    "RelayState",
    "Shipment",
    "Store",
    "TemplateVersion",
    "User",
    "WorkerHeartbeat",
]
