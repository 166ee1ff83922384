"""Orders with their lines, shipments and quotes: the records mails are made from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow

PAYMENT_KINDS = ("card", "bank_transfer", "cod", "convenience", "invoice", "other")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "number"),
        Index("ix_orders_store_ordered", "store_id", "ordered_at"),
        Index("ix_orders_buyer_email", "buyer_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[str] = mapped_column(String(60))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)

    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_email: Mapped[str] = mapped_column(String(254), default="")
    buyer_zip: Mapped[str] = mapped_column(String(10), default="")
    buyer_address: Mapped[str] = mapped_column(Text, default="")
    buyer_tel: Mapped[str] = mapped_column(String(30), default="")
    # How many orders this buyer has placed with the store, this one included (stage 1/2).
    purchase_count: Mapped[int] = mapped_column(Integer, default=1)

    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_company: Mapped[str] = mapped_column(String(200), default="")
    ship_zip: Mapped[str] = mapped_column(String(10), default="")
    ship_address: Mapped[str] = mapped_column(Text, default="")
    ship_tel: Mapped[str] = mapped_column(String(30), default="")
    shipping_instructions: Mapped[str] = mapped_column(Text, default="")
    delivery_method: Mapped[str] = mapped_column(String(40), default="")
    delivery_date: Mapped[date | None] = mapped_column(Date)

    payment_method: Mapped[str] = mapped_column(String(60), default="")
    payment_kind: Mapped[str] = mapped_column(String(20), default="card")
    item_total: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    points_used: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store = relationship("Store", lazy="joined")
    lines = relationship(
        "OrderLine", order_by="OrderLine.position", cascade="all, delete-orphan", lazy="selectin"
    )
    shipments = relationship("Shipment", back_populates="order", order_by="Shipment.id")


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    sku: Mapped[str] = mapped_column(String(60), default="")
    name: Mapped[str] = mapped_column(String(300))
    options: Mapped[str] = mapped_column(Text, default="")
    unit_price: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("store_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    carrier: Mapped[str] = mapped_column(String(40), default="")
    tracking_no: Mapped[str] = mapped_column(String(60), default="")
    # When staff confirmed the shipment: triggers the shipping notice and the follow-up clock.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order = relationship("Order", back_populates="shipments")
    store = relationship("Store")


class Quote(db.Model):
    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("store_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[str] = mapped_column(String(60))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    company: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    tel: Mapped[str] = mapped_column(String(30), default="")
    item_total: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store = relationship("Store")
    lines = relationship(
        "QuoteLine", order_by="QuoteLine.position", cascade="all, delete-orphan", lazy="selectin"
    )


class QuoteLine(db.Model):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    sku: Mapped[str] = mapped_column(String(60), default="")
    name: Mapped[str] = mapped_column(String(300))
    unit_price: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
