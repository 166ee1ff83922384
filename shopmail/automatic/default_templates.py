"""The Japanese templates shopmail ships: the common default (共通設定(既定値)) of every kind.

Seeded on first need (see `seeding.ensure_defaults`): every kind × PC / mobile, order
confirmation in stage 1 (first purchase) and stage 2 (repeat customer), shipping notice as a
generic variant "" plus one per common carrier. Mobile versions are short and sign with
[SIGN_M]; PC versions sign with [SIGN].

When the shipped text changes, the old one's fingerprint goes into `RETIRED`: a seeded default
that still holds an old shipped text follows the new one; one an admin edited stays theirs.
"""

from __future__ import annotations

import hashlib

from shopmail.core.states import MessageKind

DEFAULT_CARRIERS: tuple[str, ...] = ("ヤマト運輸", "佐川急便", "日本郵便")
DEFAULT_SCOPE = "default"  # the scope of the common defaults (store templates: "store:<id>")

_RULE = "━━━━━━━━━━━━━━━━━━━━━━━━━━"

# Prices include the consumption tax: [TAX] is the part of the item total that is tax, never
# an amount on top. 商品合計 + 送料 − ポイント利用 = ご請求額.
_ORDER_BLOCK_PC = f"""\
{_RULE}
■ご注文内容
{_RULE}
ご注文番号：[ORDER_NO]
ご注文日時：[ORDER_DATE]
お支払方法：[PAYMENT_METHOD]

[ITEMS]

商品合計　　：[ITEM_TOTAL]（うち消費税 [TAX]）
送料　　　　：[SHIPPING_FEE]
ポイント利用：[POINTS_DISCOUNT]
{_RULE}
ご請求額　　：[TOTAL]

■お届け先
[SHIP_NAME] 様
〒[SHIP_ZIP] [SHIP_ADDRESS]
配送方法：[DELIVERY_METHOD]
"""

_GREETING = {
    "1": "この度は[TENPO_NAME]をご利用いただき、誠にありがとうございます。",
    "2": "いつも[TENPO_NAME]をご愛顧いただき、誠にありがとうございます。\n"
    "[PURCHASE_COUNT]回目のご注文をいただき、スタッフ一同心より感謝申し上げます。",
}
_GREETING_M = {
    "1": "[TENPO_NAME]をご利用いただきありがとうございます。",
    "2": "いつも[TENPO_NAME]をご愛顧いただきありがとうございます。",
}


def _confirmation(stage: str) -> list[tuple[str, str, str, str, str]]:
    pc = (
        f"[BUYER_NAME] 様\n\n{_GREETING[stage]}\n"
        "以下の内容でご注文を承りました。\n\n"
        f"{_ORDER_BLOCK_PC}\n"
        "商品の発送準備が整いましたら、改めて発送のご連絡をいたします。\n"
        "ご不明な点がございましたら、このメールにご返信ください。\n\n[SIGN]\n"
    )
    mobile = (
        f"[BUYER_NAME]様\n{_GREETING_M[stage]}\n"
        "ご注文を承りました。\n\n"
        "注文番号:[ORDER_NO]\n合計:[TOTAL](税込)\n支払:[PAYMENT_METHOD]\n\n"
        "発送時に改めてご連絡します。\n\n[SIGN_M]\n"
    )
    subject = "【[TENPO_NAME]】ご注文ありがとうございます（ご注文番号：[ORDER_NO]）"
    if stage == "2":
        subject = "【[TENPO_NAME]】いつもありがとうございます ご注文確認（ご注文番号：[ORDER_NO]）"
    return [
        (MessageKind.ORDER_CONFIRMATION, "pc", stage, subject, pc),
        (
            MessageKind.ORDER_CONFIRMATION,
            "mobile",
            stage,
            "【[TENPO_NAME]】ご注文確認（[ORDER_NO]）",
            mobile,
        ),
    ]


def _shipping(carrier: str) -> list[tuple[str, str, str, str, str]]:
    # The shipment's own date, not 「本日」: a notice created later (a backfill, a review in
    # the queue) still tells the day the parcel left.
    by = f"{carrier}にて" if carrier else ""
    tracking_pc = (
        "お問い合わせ伝票番号：[TRACKING_NO]\n配送状況のご確認　　：[TRACKING_URL]\n"
        "※配送状況が反映されるまで、お時間がかかる場合がございます。\n"
        if carrier
        else "配送業者　　　　　　：[CARRIER]\nお問い合わせ伝票番号：[TRACKING_NO]\n"
    )
    pc = (
        "[BUYER_NAME] 様\n\n[TENPO_NAME]をご利用いただき、誠にありがとうございます。\n"
        f"ご注文の商品を[SHIP_DATE]に{by}発送いたしました。\n\n"
        f"ご注文番号：[ORDER_NO]\n{tracking_pc}\n"
        "■お届け先\n[SHIP_NAME] 様\n〒[SHIP_ZIP] [SHIP_ADDRESS]\n\n"
        "■発送商品\n[ITEMS]\n\n"
        "商品の到着まで、今しばらくお待ちくださいませ。\n\n[SIGN]\n"
    )
    mobile = (
        f"[BUYER_NAME]様\nご注文の商品を[SHIP_DATE]に{by}発送しました。\n\n"
        "注文番号:[ORDER_NO]\n伝票番号:[TRACKING_NO]\n"
        + ("[TRACKING_URL]\n" if carrier else "")
        + "\n[SIGN_M]\n"
    )
    subject = "【[TENPO_NAME]】商品発送のお知らせ（ご注文番号：[ORDER_NO]）"
    return [
        (MessageKind.SHIPPING_NOTICE, "pc", carrier, subject, pc),
        (
            MessageKind.SHIPPING_NOTICE,
            "mobile",
            carrier,
            "【[TENPO_NAME]】発送のお知らせ[ORDER_NO]",
            mobile,
        ),
    ]


def _follow_up() -> list[tuple[str, str, str, str, str]]:
    pc = (
        "[BUYER_NAME] 様\n\n先日は[TENPO_NAME]をご利用いただき、誠にありがとうございました。\n"
        "ご注文の商品（ご注文番号：[ORDER_NO]）は無事にお手元に届きましたでしょうか。\n\n"
        "商品について気になる点やご不明な点がございましたら、\n"
        "お気軽にこのメールへご返信ください。\n\n"
        "またのご利用を心よりお待ちしております。\n\n[SIGN]\n"
    )
    mobile = (
        "[BUYER_NAME]様\n先日は[TENPO_NAME]をご利用いただきありがとうございました。\n"
        "商品は無事に届きましたか?\nご不明点はこのメールにご返信ください。\n\n[SIGN_M]\n"
    )
    return [
        (MessageKind.FOLLOW_UP, "pc", "", "【[TENPO_NAME]】商品はお手元に届きましたでしょうか", pc),
        (MessageKind.FOLLOW_UP, "mobile", "", "【[TENPO_NAME]】商品到着のご確認", mobile),
    ]


def shipped_templates() -> list[dict[str, str]]:
    """Every common-default template as a dict: kind, device, variant, subject, body."""
    rows = [*_confirmation("1"), *_confirmation("2"), *_shipping("")]
    for carrier in DEFAULT_CARRIERS:
        rows.extend(_shipping(carrier))
    rows.extend(_follow_up())
    keys = ("kind", "device", "variant", "subject", "body")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# The text (normalised: CRLF as LF, trimmed) of every earlier shipped version, by slot, as the
# first 16 hex digits of sha256(subject + NUL + body). A seeded common default still holding
# one of these was never edited: it follows the current shipped text (`is_retired`).
RETIRED: dict[tuple[str, str, str], frozenset[str]] = {
    key: frozenset({digest})
    for key, digest in {
        ("order_confirmation", "pc", "1"): "bc23b6ba8c850749",
        ("order_confirmation", "mobile", "1"): "81b5a1e210e25517",
        ("order_confirmation", "pc", "2"): "f93d885108adabc9",
        ("order_confirmation", "mobile", "2"): "5c4b0e5b8af8f54a",
        ("shipping_notice", "pc", ""): "17f252b7e093f7d6",
        ("shipping_notice", "mobile", ""): "b84224578049cc84",
        ("shipping_notice", "pc", "ヤマト運輸"): "636d3fe465baba0b",
        ("shipping_notice", "mobile", "ヤマト運輸"): "ee961304de6ba9da",
        ("shipping_notice", "pc", "佐川急便"): "8004df2ec5c23329",
        ("shipping_notice", "mobile", "佐川急便"): "36e9cf8560880bc4",
        ("shipping_notice", "pc", "日本郵便"): "afafee5ef0db7364",
        ("shipping_notice", "mobile", "日本郵便"): "a7951a541452d2eb",
        ("follow_up", "pc", ""): "23b6c06c28d41b12",
        ("follow_up", "mobile", ""): "ba8132f52f0e53b1",
    }.items()
}


def digest(subject: str, body: str) -> str:
    """The short fingerprint `RETIRED` keeps of a template's text."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return hashlib.sha256(f"{norm(subject)}\0{norm(body)}".encode()).hexdigest()[:16]


def is_retired(kind: str, device: str, variant: str, subject: str, body: str) -> bool:
    """Whether this text is an earlier shipped version of the slot, never edited since."""
    return digest(subject, body) in RETIRED.get((str(kind), device, variant), frozenset())
