"""The block of one record that a record mail carries between its header and footer.

Orders, in the manual's order: order summary · order details · buyer · ship-to. Parts that are
switched off or empty are left out: the bank account (only for bank transfers, when the desk's
setting says so), point use, product options, shipping instructions (an option). Shipments lead
with their shipment ID, carrier and tracking number, then their order's block; quotes give the
quote number and validity, lines and totals, and the customer. The block is part of the mail's
content (Japanese, like the stores' templates), and every value comes from `merge`.
"""

from __future__ import annotations

from shopmail.core import merge
from shopmail.core.i18n import tokyo_date
from shopmail.models import DeskSettings, Order, Quote, Shipment

Section = tuple[str, list[str]]


def bank_account(settings: DeskSettings) -> str:
    """The account shown to bank-transfer orders, or "" while the setting is off."""
    return settings.bank_account_text.strip() if settings.bank_account_in_order_mails else ""


def record_values(
    record_type: str, record: Order | Shipment | Quote, settings: DeskSettings
) -> dict[str, str]:
    """Tag values of one record (its store's values are added by the caller)."""
    if record_type == "quote":
        return merge.quote_values(record)
    if record_type == "shipment":
        return merge.order_values(record.order, record, bank_account(settings))
    return merge.order_values(record, bank_account=bank_account(settings))


def record_block(record_type: str, record: Order | Shipment | Quote, settings: DeskSettings) -> str:
    values = record_values(record_type, record, settings)
    if record_type == "quote":
        sections = _quote(record, values)
    elif record_type == "shipment":
        sections = [_shipment(values), *_order(record.order, values, settings)]
    else:
        sections = _order(record, values, settings)
    return "\n\n".join(f"■{title}\n" + "\n".join(lines) for title, lines in sections if lines)


def _fields(*pairs: tuple[str, str]) -> list[str]:
    return [f"{label}：{value}" for label, value in pairs if value and value.strip()]


def _address(zip_code: str, address: str) -> str:
    return f"〒{zip_code} {address}" if zip_code else address


def _honorific(name: str) -> str:
    return f"{name} 様" if name else ""


def _shipment(v: dict[str, str]) -> Section:
    return (
        "出荷情報",
        _fields(
            ("出荷番号", v["SHIPMENT_ID"]),
            ("出荷日", v["SHIP_DATE"]),
            ("配送業者", v["CARRIER"]),
            ("お問い合わせ伝票番号", v["TRACKING_NO"]),
            ("配送状況確認URL", v["TRACKING_URL"]),
        ),
    )


def _order(order: Order, v: dict[str, str], settings: DeskSettings) -> list[Section]:
    # Prices include the consumption tax: it is shown as the part of the total it is, and the
    # lines add up to what the customer pays.
    details = [v["ITEMS"], ""] + _fields(
        ("商品合計", f"{v['ITEM_TOTAL']}（うち消費税 {v['TAX']}）"),
        ("送料", v["SHIPPING_FEE"]),
        ("ポイント利用", v["POINTS_DISCOUNT"] if order.points_used else ""),
        ("ご請求額", v["TOTAL"]),
    )
    sections = [
        (
            "ご注文内容",
            _fields(
                ("注文番号", v["ORDER_NO"]),
                ("注文日", v["ORDER_DATE"]),
                ("決済方法", v["PAYMENT_METHOD"]),
                ("注文総額", v["TOTAL"]),
            ),
        ),
        ("お振込先", v["BANK_ACCOUNT"].splitlines()),
        ("ご注文詳細", details),
        (
            "ご注文者様情報",
            _fields(
                ("氏名", _honorific(v["BUYER_NAME"])),
                ("住所", _address(v["BUYER_ZIP"], v["BUYER_ADDRESS"])),
                ("メールアドレス", v["BUYER_EMAIL"]),
                ("電話番号", v["BUYER_TEL"]),
            ),
        ),
        (
            "配送先情報",
            _fields(
                ("会社名", v["SHIP_COMPANY"]),
                ("氏名", _honorific(v["SHIP_NAME"])),
                ("住所", _address(v["SHIP_ZIP"], v["SHIP_ADDRESS"])),
                ("電話番号", v["SHIP_TEL"]),
            ),
        ),
    ]
    if settings.record_mail_shipping_instructions:
        sections.append(("発送指示", order.shipping_instructions.strip().splitlines()))
    return sections


def _quote(quote: Quote, v: dict[str, str]) -> list[Section]:
    details = [v["ITEMS"], ""] + _fields(
        ("商品合計", v["ITEM_TOTAL"]),
        ("消費税", v["TAX"]),
        ("送料", v["SHIPPING_FEE"]),
        ("お見積総額", v["TOTAL"]),
    )
    return [
        (
            "お見積内容",
            _fields(
                ("見積番号", v["QUOTE_NO"]),
                ("発行日", tokyo_date(quote.issued_at)),
                ("有効期限", v["QUOTE_EXPIRES"]),
            ),
        ),
        ("お見積明細", details),
        (
            "お客様情報",
            _fields(
                ("会社名", v["SHIP_COMPANY"]),
                ("ご担当者", _honorific(v["BUYER_NAME"])),
                ("住所", _address(v["BUYER_ZIP"], v["BUYER_ADDRESS"])),
                ("メールアドレス", v["BUYER_EMAIL"]),
                ("電話番号", v["BUYER_TEL"]),
            ),
        ),
        ("備考", quote.notes.strip().splitlines()),
    ]
