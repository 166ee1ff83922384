"""The Japanese templates shopmail ships: the common default (共通設定(規定値)) of every kind.

Seeded on first need (see `order_templates.ensure_defaults`): every kind × PC / mobile, order
confirmation in stage 1 (first purchase) and stage 2 (repeat customer), shipping notice as a
generic variant "" plus one per common carrier. Mobile versions are short and sign with
[SIGN_M]; PC versions sign with [SIGN].
"""

from __future__ import annotations

from shopmail.core.states import MessageKind

DEFAULT_CARRIERS: tuple[str, ...] = ("ヤマト運輸", "佐川急便", "日本郵便")

_ORDER_BLOCK_PC = """\
━━━━━━━━━━━━━━━━━━━━━━━━━━
■ご注文内容
━━━━━━━━━━━━━━━━━━━━━━━━━━
ご注文番号：[ORDER_NO]
ご注文日時：[ORDER_DATE]
お支払方法：[PAYMENT_METHOD]

[ITEMS]

商品合計：[ITEM_TOTAL]
送料　　：[SHIPPING_FEE]
消費税　：[TAX]
ご請求額：[TOTAL]

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
    "2": "いつもご愛顧いただきありがとうございます。",
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
        "注文番号:[ORDER_NO]\n合計:[TOTAL]\n支払:[PAYMENT_METHOD]\n\n"
        "発送時に改めてご連絡します。\n\n[SIGN_M]\n"
    )
    subject = "【[TENPO_NAME]】ご注文ありがとうございます(注文番号:[ORDER_NO])"
    if stage == "2":
        subject = "【[TENPO_NAME]】いつもありがとうございます ご注文確認(注文番号:[ORDER_NO])"
    return [
        (MessageKind.ORDER_CONFIRMATION, "pc", stage, subject, pc),
        (MessageKind.ORDER_CONFIRMATION, "mobile", stage, "ご注文確認[ORDER_NO]", mobile),
    ]


def _shipping(carrier: str) -> list[tuple[str, str, str, str, str]]:
    by = f"{carrier}にて" if carrier else ""
    tracking_pc = (
        "お問い合わせ伝票番号：[TRACKING_NO]\n配送状況の確認：[TRACKING_URL]\n"
        if carrier
        else "配送業者　　　　　　：[CARRIER]\nお問い合わせ伝票番号：[TRACKING_NO]\n"
    )
    pc = (
        "[BUYER_NAME] 様\n\n[TENPO_NAME]をご利用いただき、誠にありがとうございます。\n"
        f"ご注文の商品を本日{by}発送いたしました。\n\n"
        f"ご注文番号：[ORDER_NO]\n出荷日　　：[SHIP_DATE]\n{tracking_pc}\n"
        "■お届け先\n[SHIP_NAME] 様\n〒[SHIP_ZIP] [SHIP_ADDRESS]\n\n"
        "[ITEMS]\n\n"
        "商品の到着まで今しばらくお待ちくださいませ。\n\n[SIGN]\n"
    )
    mobile = (
        f"[BUYER_NAME]様\nご注文の商品を{by}発送しました。\n\n"
        "注文番号:[ORDER_NO]\n伝票番号:[TRACKING_NO]\n"
        + ("[TRACKING_URL]\n" if carrier else "")
        + "\n[SIGN_M]\n"
    )
    subject = "【[TENPO_NAME]】商品発送のお知らせ(注文番号:[ORDER_NO])"
    return [
        (MessageKind.SHIPPING_NOTICE, "pc", carrier, subject, pc),
        (MessageKind.SHIPPING_NOTICE, "mobile", carrier, "発送のお知らせ[ORDER_NO]", mobile),
    ]


def _follow_up() -> list[tuple[str, str, str, str, str]]:
    pc = (
        "[BUYER_NAME] 様\n\n先日は[TENPO_NAME]をご利用いただき、誠にありがとうございました。\n"
        "ご注文の商品([ORDER_NO])は無事にお手元に届きましたでしょうか。\n\n"
        "商品について気になる点やご不明な点がございましたら、\n"
        "お気軽にこのメールへご返信ください。\n\n"
        "またのご利用を心よりお待ちしております。\n\n[SIGN]\n"
    )
    mobile = (
        "[BUYER_NAME]様\n先日はご注文ありがとうございました。\n"
        "商品は無事に届きましたか?\nご不明点はこのメールにご返信ください。\n\n[SIGN_M]\n"
    )
    return [
        (MessageKind.FOLLOW_UP, "pc", "", "【[TENPO_NAME]】商品はお手元に届きましたでしょうか", pc),
        (MessageKind.FOLLOW_UP, "mobile", "", "商品到着のご確認", mobile),
    ]


def shipped_templates() -> list[dict[str, str]]:
    """Every common-default template as a dict: kind, device, variant, subject, body."""
    rows = [*_confirmation("1"), *_confirmation("2"), *_shipping("")]
    for carrier in DEFAULT_CARRIERS:
        rows.extend(_shipping(carrier))
    rows.extend(_follow_up())
    keys = ("kind", "device", "variant", "subject", "body")
    return [dict(zip(keys, row, strict=True)) for row in rows]
