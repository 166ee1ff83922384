"""Tag values: what each [TAG] of the catalogue (shopmail.mail.tags) stands for in a record.

The one place that turns stores, orders, shipments, quotes and members into merge values,
shared by automatic mails, record mails and broadcasts. Values are plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shopmail.core.i18n import tokyo, tokyo_date
from shopmail.models import Member, Order, Quote, Shipment, Store
from shopmail.models.types import utcnow

TRACKING_URLS = {
    "ヤマト運輸": "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={no}",
    "佐川急便": "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={no}",
    "日本郵便": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={no}",
}


def yen(amount: int) -> str:
    return f"{amount:,}円"


def store_values(store: Store, now: datetime | None = None) -> dict[str, str]:
    return {
        "TENPO_NAME": store.from_name or store.name,
        "SIGN": store.signature_pc,
        "SIGN_M": store.signature_mobile,
        "TODAY": tokyo_date(now or utcnow()),
    }


def format_items(lines: Iterable) -> str:
    """Order or quote lines as a block: name, options, unit price × quantity = subtotal."""
    out = []
    for line in lines:
        out.append(f"・{line.name}")
        options = getattr(line, "options", "")
        if options:
            out.append(f"  ({options})")
        out.append(
            f"  {yen(line.unit_price)} × {line.quantity} = {yen(line.unit_price * line.quantity)}"
        )
    return "\n".join(out)


def order_values(
    order: Order, shipment: Shipment | None = None, bank_account: str = ""
) -> dict[str, str]:
    """Order, buyer, ship-to and shipment tags. `bank_account` only for bank transfers."""
    shipment = shipment or next((s for s in order.shipments if s.confirmed_at), None)
    carrier = shipment.carrier if shipment else ""
    tracking = shipment.tracking_no if shipment else ""
    url = TRACKING_URLS.get(carrier, "")
    return {
        "ORDER_NO": order.number,
        "ORDER_DATE": tokyo(order.ordered_at),
        "PAYMENT_METHOD": order.payment_method,
        "ITEMS": format_items(order.lines),
        "ITEM_TOTAL": yen(order.item_total),
        "TAX": yen(order.tax),
        "SHIPPING_FEE": yen(order.shipping_fee),
        "POINTS_USED": f"{order.points_used:,}" if order.points_used else "",
        # What the points take off the bill, so 商品合計 + 送料 + this = ご請求額 reads true.
        "POINTS_DISCOUNT": f"-{yen(order.points_used)}" if order.points_used else yen(0),
        "TOTAL": yen(order.total),
        "BUYER_NAME": order.buyer_name,
        "BUYER_ZIP": order.buyer_zip,
        "BUYER_ADDRESS": order.buyer_address,
        "BUYER_TEL": order.buyer_tel,
        "BUYER_EMAIL": order.buyer_email,
        "SHIP_NAME": order.ship_name,
        "SHIP_COMPANY": order.ship_company,
        "SHIP_ZIP": order.ship_zip,
        "SHIP_ADDRESS": order.ship_address,
        "SHIP_TEL": order.ship_tel,
        "CARRIER": carrier,
        "DELIVERY_METHOD": order.delivery_method,
        "TRACKING_NO": tracking,
        "TRACKING_URL": url.format(no=tracking) if url and tracking else "",
        "SHIP_DATE": tokyo_date(shipment.confirmed_at) if shipment else "",
        "DELIVERY_DATE": tokyo_date(order.delivery_date),
        "BANK_ACCOUNT": bank_account if order.payment_kind == "bank_transfer" else "",
        "PURCHASE_COUNT": str(order.purchase_count),
        "SHIPMENT_ID": shipment.number if shipment else "",
    }


def quote_values(quote: Quote) -> dict[str, str]:
    return {
        "QUOTE_NO": quote.number,
        "QUOTE_EXPIRES": tokyo_date(quote.expires_on),
        "ITEMS": format_items(quote.lines),
        "ITEM_TOTAL": yen(quote.item_total),
        "TAX": yen(quote.tax),
        "SHIPPING_FEE": yen(quote.shipping_fee),
        "TOTAL": yen(quote.total),
        "BUYER_NAME": quote.contact_name,
        "BUYER_EMAIL": quote.email,
        "BUYER_TEL": quote.tel,
        "BUYER_ZIP": quote.zip,
        "BUYER_ADDRESS": quote.address,
        "SHIP_COMPANY": quote.company,
    }


def member_values(member: Member, unsubscribe_url: str = "") -> dict[str, str]:
    return {
        "MEMBER_ID": member.number,
        "MEMBER_NAME": member.contact_name,
        "COMPANY": member.company,
        "MEMBER_EMAIL": member.email,
        "LAST_PURCHASE_DATE": tokyo_date(member.last_purchase_on),
        "UNSUBSCRIBE_URL": unsubscribe_url,
    }
