"""The Japanese content checks: each finding with its line and column, and the replacement
offered; only what cannot be sent blocks."""

import pytest

from shopmail.mail import content_checks
from shopmail.mail.content_checks import check, replacement_for


def found(findings, code):
    return [
        (f.field, f.line, f.column, f.found, f.replacement, f.blocks)
        for f in findings
        if f.code == code
    ]


@pytest.mark.parametrize(
    "char, better",
    [
        ("①", "(1)"),
        ("⑳", "(20)"),
        ("㈱", "(株)"),
        ("髙", "高"),
        ("﨑", "崎"),
        ("Ⅳ", "IV"),
        ("㎝", "cm"),
        ("㍻", "平成"),
    ],
)
def test_a_machine_dependent_character_is_found_with_its_replacement(char, better):
    findings = check("件名", f"本文です\nお店{char}より", "order")
    assert found(findings, "charset") == [("body", 2, 3, char, better, False)]
    assert f"「{better}」" in findings[0].message_ja
    assert findings[0].message_ja.startswith("2行目 3文字目: ")


def test_half_width_kana_is_found_as_one_run_with_its_full_width_form():
    findings = check("ｾｰﾙ開催", "ご案内\n  ｶﾞｲﾄﾞﾌﾞｯｸ です", "member")
    assert found(findings, "charset") == [
        ("subject", 1, 1, "ｾｰﾙ", "セール", False),
        ("body", 2, 3, "ｶﾞｲﾄﾞﾌﾞｯｸ", "ガイドブック", False),
    ]
    assert "半角カナ" in findings[0].message_ja


def test_a_variant_kanji_is_offered_as_a_suggestion_only():
    (finding,) = check("", "髙橋様", "order")
    assert finding.replacement == "高" and "お名前などでなければ「高」" in finding.message_ja


def test_emoji_count_only_where_iso_2022_jp_may_carry_the_text():
    assert check("", "ありがとう😀", "order") == []
    (finding,) = check("", "ありがとう😀", "order", mobile=True)
    assert (finding.code, finding.line, finding.column, finding.replacement) == (
        "charset",
        1,
        6,
        "",
    )
    assert "ISO-2022-JP では送れない文字" in finding.message_ja
    assert not finding.blocks  # compose sends it as UTF-8: it can be sent


def test_plain_japanese_and_ascii_give_nothing():
    assert (
        check(
            "ご注文ありがとうございます",
            "株式会社さくら\n〒100-0001 東京都\nhttps://example.jp/",
            "order",
            mobile=True,
        )
        == []
    )


def test_a_line_over_1000_bytes_blocks_and_says_where():
    body = "一行目\n" + "あ" * 332 + "い" * 2  # 334 × 3 bytes = 1,002
    (finding,) = found(check("", body, "order"), "line_bytes")
    assert finding == ("body", 2, 333, "いい", "", True)  # the 999th byte is in column 333
    at_limit = "a" * content_checks.LINE_BYTES_LIMIT
    assert found(check("", at_limit, "order"), "line_bytes") == []


def test_a_mobile_line_wider_than_the_setting_warns_at_the_column_it_crosses():
    body = "短い行\n" + "あ" * 76 + "\n" + "あ" * 70 + "a" * 13
    findings = found(check("", body, "order", mobile=True), "line_width")
    # 70 full-width + 12 half-width = 76 full-width; the 13th half-width one crosses.
    assert findings == [("body", 3, 83, "a", "", False)]
    assert found(check("", body, "order", mobile=True, line_width=40), "line_width")[0][1:3] == (
        2,
        41,
    )
    assert found(check("", body, "order"), "line_width") == []  # PC templates: no width limit


def test_a_subject_over_60_characters_warns_from_the_61st():
    findings = found(check("あ" * 61, "", "order"), "subject_length")
    assert findings == [("subject", 1, 61, "あ", "", False)]
    assert found(check("あ" * 60, "", "order"), "subject_length") == []


def test_tags_the_kind_does_not_know_come_from_the_tag_checker():
    findings = check("[TENPO_NAME]より", "[MEMBER_NAME]様\n  [ordr_no] ORDER_NO", "order")
    assert [(f.code, f.line, f.column, f.found, f.replacement, f.blocks) for f in findings] == [
        ("tag", 1, 1, "[MEMBER_NAME]", "", True),
        ("tag_typo", 2, 3, "[ordr_no]", "[ORDER_NO]", False),
        ("tag_typo", 2, 13, "ORDER_NO", "[ORDER_NO]", False),
    ]


def test_a_mistyped_tag_blocks_with_the_right_one_offered():
    (finding,) = check("", "お名前: [buyer_name]", "order")
    assert (finding.code, finding.column, finding.replacement, finding.blocks) == (
        "tag_typo",
        6,
        "[BUYER_NAME]",
        True,
    )


def test_a_link_without_https_warns_with_the_https_link_offered():
    body = "詳しくは\n http://example.jp/sale?id=1 をご覧ください\nhttps://example.jp/ok"
    assert found(check("", body, "member"), "http") == [
        ("body", 2, 2, "http://example.jp/sale?id=1", "https://example.jp/sale?id=1", False)
    ]


def test_markup_gets_no_line_checks_but_its_links_and_characters_are_checked():
    html = "<p>" + "あ" * 400 + '</p><a href="http://example.jp">①</a>'
    findings = check("", html, "member", mobile=True, html=True)
    assert {f.code for f in findings} == {"http", "charset"}


def test_findings_come_in_text_order_subject_first():
    findings = check("①" + "あ" * 60, "㈱\nhttp://a.jp", "order")
    assert [(f.field, f.line, f.column) for f in findings] == [
        ("subject", 1, 1),
        ("subject", 1, 61),
        ("body", 1, 1),
        ("body", 2, 1),
    ]


def test_replacement_for_gives_nothing_when_there_is_none():
    assert replacement_for("🍣") == ""
    assert replacement_for("ｱ") == "ア"
