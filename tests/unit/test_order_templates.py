"""Which template an automatic mail uses: store → common default, PC / mobile, stage, carrier."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shopmail.automatic.default_templates import DEFAULT_CARRIERS, shipped_templates
from shopmail.automatic.templates import Compiled, Resolver, compile_text, stage_for
from shopmail.mail.addresses import device_of


def tpl(scope, kind, device="pc", variant="", subject="", body=""):
    return SimpleNamespace(
        scope=scope, kind=kind, device=device, variant=variant, subject=subject or scope, body=body
    )


DEFAULTS = [
    tpl("default", "order_confirmation", "pc", "1", "既定 PC 1"),
    tpl("default", "order_confirmation", "pc", "2", "既定 PC 2"),
    tpl("default", "order_confirmation", "mobile", "1", "既定 携帯 1"),
    tpl("default", "shipping_notice", "pc", "", "既定 発送 共通"),
    tpl("default", "shipping_notice", "pc", "ヤマト運輸", "既定 発送 ヤマト"),
]


def subject(resolver, store_id, kind, device, variant):
    found = resolver.find(store_id, kind, device, variant)
    return found.subject if found else None


def test_a_store_override_wins_over_the_common_default():
    resolver = Resolver([*DEFAULTS, tpl("store:7", "order_confirmation", "pc", "1", "店舗7")])
    assert subject(resolver, 7, "order_confirmation", "pc", "1") == "店舗7"
    assert subject(resolver, 8, "order_confirmation", "pc", "1") == "既定 PC 1"
    assert subject(resolver, None, "order_confirmation", "pc", "1") == "既定 PC 1"


def test_a_store_that_overrides_pc_only_still_follows_the_default_for_mobile():
    resolver = Resolver([*DEFAULTS, tpl("store:7", "order_confirmation", "pc", "1", "店舗7")])
    assert subject(resolver, 7, "order_confirmation", "mobile", "1") == "既定 携帯 1"


def test_stage_two_has_its_own_template_and_falls_back_to_stage_one():
    resolver = Resolver(DEFAULTS)
    assert subject(resolver, 7, "order_confirmation", "pc", "2") == "既定 PC 2"
    assert subject(resolver, 7, "order_confirmation", "mobile", "2") == "既定 携帯 1"


def test_a_carrier_uses_its_own_notice_else_the_generic_one():
    resolver = Resolver([*DEFAULTS, tpl("store:7", "shipping_notice", "pc", "", "店舗7 共通")])
    assert subject(resolver, 7, "shipping_notice", "pc", "ヤマト運輸") == "既定 発送 ヤマト"
    assert subject(resolver, 7, "shipping_notice", "pc", "西濃運輸") == "店舗7 共通"
    assert subject(resolver, 8, "shipping_notice", "pc", "西濃運輸") == "既定 発送 共通"


def test_no_template_at_all_is_none_not_a_guess():
    resolver = Resolver([tpl("default", "shipping_notice", "pc", "ヤマト運輸")])
    assert resolver.find(7, "shipping_notice", "pc", "佐川急便") is None
    assert resolver.find(7, "shipping_notice", "mobile", "ヤマト運輸") is None


@pytest.mark.parametrize(
    ("addr", "device"),
    [
        ("hanako@docomo.ne.jp", "mobile"),
        ("x@ezweb.ne.jp", "mobile"),
        ("y@i.softbank.jp", "mobile"),
        ("taro@example.jp", "pc"),
        ("taro@gmail.com", "pc"),
    ],
)
def test_the_recipient_domain_decides_pc_or_mobile(addr, device):
    assert device_of(addr) == device


def test_stage_two_from_the_stores_repeat_count_on():
    assert stage_for(1, 2) == "1"
    assert stage_for(2, 2) == "2"
    assert stage_for(4, 5) == "1"
    assert stage_for(5, 5) == "2"


def test_a_compiled_template_renders_like_the_tag_language():
    fixed = {"TENPO_NAME": "店", "SIGN": "署名"}
    parts = compile_text("[TENPO_NAME] [ORDER_NO] [注意] [NOPE] [SIGN]", fixed)
    resolver = Resolver([tpl("default", "follow_up", subject="[ORDER_NO]", body="[BUYER_NAME]様")])
    compiled = resolver.compiled(1, "follow_up", "pc", "", {})
    assert compiled.render({"ORDER_NO": "A-1", "BUYER_NAME": "山田"}) == ("A-1", "山田様")
    rendered, _ = Compiled(parts, ("",)).render({"ORDER_NO": "A-1", "SIGN": "[ORDER_NO]"})
    assert rendered == "店 A-1 [注意] [NOPE] 署名"


def test_the_shipped_defaults_cover_every_slot_and_sign_by_device():
    rows = shipped_templates()
    keys = {(r["kind"], r["device"], r["variant"]) for r in rows}
    for device in ("pc", "mobile"):
        assert {("order_confirmation", device, "1"), ("order_confirmation", device, "2")} <= keys
        assert ("follow_up", device, "") in keys
        for carrier in ("", *DEFAULT_CARRIERS):
            assert ("shipping_notice", device, carrier) in keys
    for row in rows:
        sign = "[SIGN]" if row["device"] == "pc" else "[SIGN_M]"
        assert sign in row["body"]
        if row["device"] == "mobile":
            assert "[SIGN]" not in row["body"] and len(row["body"]) < 200
