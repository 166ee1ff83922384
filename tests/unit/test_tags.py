"""The [TAG] merge language: substitution, the catalogue, and unknown-tag reports."""

import pytest

from shopmail.mail.tags import (
    CATALOGUE,
    UnknownTag,
    UnknownTagError,
    check,
    find_unknown,
    render,
    tags_for,
)


def test_render_substitutes_known_tags():
    text = "[BUYER_NAME] 様\nご注文番号: [ORDER_NO]\n[TENPO_NAME]"
    values = {"BUYER_NAME": "山田 太郎", "ORDER_NO": "A-1001", "TENPO_NAME": "テスト商店"}
    assert render(text, values) == "山田 太郎 様\nご注文番号: A-1001\nテスト商店"


def test_substituted_values_are_never_expanded_again():
    values = {"BUYER_NAME": "[ORDER_NO] {0} ${x} {{ 7*7 }}", "ORDER_NO": "SECRET"}
    assert render("[BUYER_NAME]", values) == "[ORDER_NO] {0} ${x} {{ 7*7 }}"


def test_known_tag_without_value_renders_empty():
    assert render("番号:[TRACKING_NO]!", {}) == "番号:!"


def test_unknown_and_non_tag_brackets_are_left_as_written():
    text = "[注意] 在庫[1]点 [lower] [NOT_A_TAG] [A-B]"
    assert render(text, {}) == text


def test_render_accepts_a_value_for_a_tag_outside_the_catalogue():
    assert render("[CUSTOM]", {"CUSTOM": "x"}) == "x"


def test_contexts_decide_which_tags_are_known():
    order = {tag.name for tag in tags_for("order")}
    record = {tag.name for tag in tags_for("record")}
    member = {tag.name for tag in tags_for("member")}
    assert {"TENPO_NAME", "SIGN", "SIGN_M", "TODAY"} <= order & record & member
    assert {"ORDER_NO", "ITEMS", "TRACKING_URL", "BANK_ACCOUNT"} <= order & record
    assert {"SHIPMENT_ID", "QUOTE_NO", "QUOTE_EXPIRES"} <= record - order
    assert {"MEMBER_NAME", "UNSUBSCRIBE_URL"} <= member - order - record
    assert "ORDER_NO" not in member


def test_every_tag_has_both_descriptions():
    for tag in CATALOGUE.values():
        assert tag.ja and tag.en
        assert tag.token == f"[{tag.name}]"


def test_unknown_tags_are_reported_with_line_and_column():
    text = "[BUYER_NAME] 様\n  [ORDR_NO] と [MEMBER_NAME]\n[注意]"
    assert find_unknown(text, "order") == [
        UnknownTag("ORDR_NO", 2, 3),
        UnknownTag("MEMBER_NAME", 2, 15),
    ]
    assert find_unknown(text.replace("\n", "\r\n"), "order")[0] == UnknownTag("ORDR_NO", 2, 3)


def test_check_raises_a_readable_error():
    with pytest.raises(UnknownTagError) as caught:
        check("hello [NOPE]", "member")
    assert caught.value.unknown == [UnknownTag("NOPE", 1, 7)]
    assert "[NOPE]" in str(caught.value) and "line 1, column 7" in str(caught.value)
    assert "[NOPE]" in caught.value.message_ja
    check("[MEMBER_NAME] 様", "member")  # no error


def test_an_unknown_context_is_a_programming_error():
    with pytest.raises(ValueError):
        tags_for("orders")
