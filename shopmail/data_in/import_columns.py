"""The fields a CSV column can feed, per import kind, and guessing them from header names.

Headers are matched after NFKC normalisation, lower-casing and dropping blanks and separators,
so "メールアドレス", "ﾒｰﾙｱﾄﾞﾚｽ", "E-mail" and "email" all find the buyer's e-mail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Column:
    key: str  # the record field it feeds: "buyer.email", "lines.quantity"
    label: object
    aliases: tuple[str, ...]


MEMBER_COLUMNS = (
    Column(
        "number",
        _l("Member number"),
        ("会員番号", "会員ID", "会員コード", "member number", "member no", "member id"),
    ),
    Column("company", _l("Company"), ("会社名", "企業名", "法人名", "company", "company name")),
    Column(
        "contact_name",
        _l("Contact name"),
        ("担当者名", "担当者", "氏名", "お名前", "名前", "contact name", "contact", "name"),
    ),
    Column(
        "email",
        _l("E-mail"),
        ("メールアドレス", "メール", "eメール", "email", "e-mail", "mail", "email address"),
    ),
    Column(
        "wants_mail",
        _l("Wants mail"),
        (
            "メール配信",
            "メール案内",
            "メルマガ",
            "メール受信",
            "メール希望",
            "配信希望",
            "wants mail",
            "opt in",
            "newsletter",
        ),
    ),
    Column(
        "email_invalid",
        _l("E-mail invalid"),
        ("メール無効", "無効アドレス", "アドレス無効", "email invalid", "invalid"),
    ),
    Column("business_type", _l("Business type"), ("業態", "業種区分", "business type")),
    Column("industry", _l("Industry"), ("業種", "業界", "industry")),
    Column(
        "display_group",
        _l("Display group"),
        ("表示グループ", "グループ", "会員グループ", "display group", "group"),
    ),
    Column(
        "last_purchase_on",
        _l("Last purchase date"),
        ("最終購入日", "最終購入", "last purchase", "last purchase date", "last purchase on"),
    ),
    Column("tel", _l("Phone"), ("電話番号", "電話", "tel", "phone", "telephone")),
)
ORDER_COLUMNS = (
    Column(
        "store", _l("Store code"), ("店舗コード", "店舗", "ストア", "store", "store code", "shop")
    ),
    Column(
        "number",
        _l("Order number"),
        (
            "受注番号",
            "注文番号",
            "注文id",
            "受注id",
            "order number",
            "order no",
            "order id",
            "number",
        ),
    ),
    Column(
        "ordered_at",
        _l("Order date"),
        ("受注日時", "注文日時", "受注日", "注文日", "order date", "ordered at", "order datetime"),
    ),
    Column(
        "status", _l("Order status"), ("受注ステータス", "ステータス", "status", "order status")
    ),
    Column("member_number", _l("Member number"), ("会員番号", "member number", "member no")),
    Column(
        "buyer.name",
        _l("Buyer name"),
        ("注文者名", "注文者氏名", "購入者名", "お名前", "buyer name", "buyer"),
    ),
    Column(
        "buyer.email",
        _l("Buyer e-mail"),
        (
            "注文者メールアドレス",
            "メールアドレス",
            "メール",
            "購入者メールアドレス",
            "email",
            "e-mail",
            "buyer email",
            "mail",
        ),
    ),
    Column(
        "buyer.zip",
        _l("Buyer postcode"),
        ("注文者郵便番号", "郵便番号", "buyer zip", "zip", "postcode"),
    ),
    Column(
        "buyer.address", _l("Buyer address"), ("注文者住所", "住所", "buyer address", "address")
    ),
    Column(
        "buyer.tel",
        _l("Buyer phone"),
        ("注文者電話番号", "電話番号", "buyer tel", "buyer phone", "tel", "phone"),
    ),
    Column("purchase_count", _l("Purchase count"), ("購入回数", "注文回数", "purchase count")),
    Column(
        "ship_to.name",
        _l("Recipient name"),
        (
            "送付先名",
            "送付先氏名",
            "お届け先名",
            "配送先名",
            "ship name",
            "ship to name",
            "recipient",
        ),
    ),
    Column(
        "ship_to.company",
        _l("Recipient company"),
        ("送付先会社名", "お届け先会社名", "ship company", "ship to company"),
    ),
    Column(
        "ship_to.zip",
        _l("Recipient postcode"),
        ("送付先郵便番号", "お届け先郵便番号", "ship zip", "ship to zip"),
    ),
    Column(
        "ship_to.address",
        _l("Recipient address"),
        ("送付先住所", "お届け先住所", "配送先住所", "ship address", "ship to address"),
    ),
    Column(
        "ship_to.tel",
        _l("Recipient phone"),
        ("送付先電話番号", "お届け先電話番号", "ship tel", "ship to tel", "ship phone"),
    ),
    Column(
        "shipping_instructions",
        _l("Shipping instructions"),
        ("配送指示", "配送メモ", "備考", "shipping instructions"),
    ),
    Column(
        "delivery_method",
        _l("Delivery method"),
        ("配送方法", "発送方法", "配送業者", "delivery method", "shipping method"),
    ),
    Column(
        "delivery_date",
        _l("Delivery date"),
        ("お届け希望日", "配達希望日", "配送希望日", "delivery date"),
    ),
    Column(
        "payment.method",
        _l("Payment method"),
        ("支払方法", "決済方法", "お支払い方法", "payment method", "payment"),
    ),
    Column("payment.kind", _l("Payment kind code"), ("支払区分", "payment kind")),
    Column(
        "item_total", _l("Item total"), ("商品合計", "商品小計", "小計", "item total", "subtotal")
    ),
    Column("tax", _l("Tax"), ("消費税", "税額", "tax")),
    Column("shipping_fee", _l("Shipping fee"), ("送料", "shipping fee", "shipping")),
    Column(
        "points_used",
        _l("Points used"),
        ("ポイント利用額", "利用ポイント", "ポイント", "points used", "points"),
    ),
    Column("total", _l("Total"), ("合計金額", "請求金額", "合計", "総額", "total")),
    Column("lines.sku", _l("SKU"), ("商品番号", "商品コード", "sku", "item code", "product code")),
    Column(
        "lines.name",
        _l("Item name"),
        ("商品名", "品名", "item name", "product name", "item", "product"),
    ),
    Column(
        "lines.options",
        _l("Item options"),
        ("商品オプション", "項目選択肢", "オプション", "options", "item options"),
    ),
    Column(
        "lines.unit_price", _l("Unit price"), ("単価", "商品単価", "価格", "unit price", "price")
    ),
    Column("lines.quantity", _l("Quantity"), ("数量", "個数", "quantity", "qty")),
    Column(
        "shipment.number",
        _l("Shipment number"),
        ("出荷番号", "出荷id", "shipment number", "shipment id"),
    ),
    Column("shipment.carrier", _l("Carrier"), ("配送会社", "運送会社", "carrier")),
    Column(
        "shipment.tracking_number",
        _l("Tracking number"),
        (
            "お問い合わせ番号",
            "問合せ番号",
            "伝票番号",
            "送り状番号",
            "tracking number",
            "tracking no",
            "tracking",
        ),
    ),
    Column(
        "shipment.confirmed_at",
        _l("Shipment confirmed at"),
        (
            "出荷確定日時",
            "出荷日時",
            "出荷日",
            "発送日",
            "shipped at",
            "shipment confirmed at",
            "confirmed at",
        ),
    ),
)
COLUMNS = {"members": MEMBER_COLUMNS, "orders": ORDER_COLUMNS}


def normalise(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).lower()
    return re.sub(r"[\s_\-・.:：()（）\[\]【】]", "", text)


def guess_mapping(kind: str, header: list[str]) -> list[str]:
    """A field key for each column ("" when unknown); each field is used at most once, by the
    first column that names it."""
    aliases: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for name in (column.key, str(column.label), *column.aliases):
            aliases.setdefault(normalise(name), column.key)
    taken: set[str] = set()
    mapping = []
    for name in header:
        key = aliases.get(normalise(name), "")
        mapping.append("" if key in taken else key)
        taken.add(key)
    return mapping


def label_of(kind: str, key: str) -> str:
    for column in COLUMNS[kind]:
        if column.key == key:
            return str(column.label)
    return ""
