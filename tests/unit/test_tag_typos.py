"""Tag typos: clear ones are refused, doubtful ones warned, each with line and column."""

import pytest

from shopmail.mail.tags import TagWarning, UnknownTagError, check, find_unknown, find_warnings


@pytest.mark.parametrize(
    "written, name",
    [
        ("[TENPO_NAME", "TENPO_NAME"),  # closing bracket missing
        ("TENPO_NAME]", "TENPO_NAME"),  # opening bracket missing
        ("[tenpo_name]", "TENPO_NAME"),  # lower case
        ("[Order_No]", "ORDER_NO"),
        ("［ORDER_NO］", "ORDER_NO"),  # full-width brackets
        ("[ＯＲＤＥＲ＿ＮＯ]", "ORDER_NO"),  # full-width letters
        ("【TENPO_NAME】", "TENPO_NAME"),
        ("[ ORDER_NO ]", "ORDER_NO"),
    ],
)
def test_a_clear_typo_of_a_tag_is_refused_naming_the_tag_meant(written, name):
    text = f"いつもありがとうございます。\n  {written} より"
    [typo] = find_unknown(text, "order")
    assert (typo.name, typo.written, typo.line, typo.column) == (name, written, 2, 3)
    with pytest.raises(UnknownTagError) as caught:
        check(text, "order")
    assert f"「{written}」(2行目 3文字目 → 正しくは [{name}])" in caught.value.message_ja
    assert "line 2, column 3" in caught.value.message_en


def test_doubtful_ones_are_warned_not_refused():
    text = "注文番号 ORDER_NO\n[today is sunny\n[GIFT_WRAP"
    assert find_unknown(text, "order") == []
    assert find_warnings(text, "order") == [
        TagWarning("ORDER_NO", 1, 6, "ORDER_NO"),
        TagWarning("[today", 2, 1, "TODAY"),
        TagWarning("[GIFT_WRAP", 3, 1, ""),
    ]
    assert "1行目 6文字目" in find_warnings(text, "order")[0].message_ja


def test_ordinary_brackets_words_and_good_tags_are_left_alone():
    text = (
        "【[TENPO_NAME]】[注意] 在庫[1]点 [[ORDER_NO]] [SIGN_M]\n"
        "TODAY ONLY 50% OFF! a[href] [x-apple-data-detectors] sign here"
    )
    assert find_unknown(text, "order") == [] and find_warnings(text, "order") == []


def test_an_unknown_tag_suggests_the_one_it_is_close_to():
    [unknown] = find_unknown("[TENPO_NAM]", "order")
    assert unknown.meant == "TENPO_NAME"
    with pytest.raises(UnknownTagError) as caught:
        check("[TENPO_NAM]", "order")
    assert "[TENPO_NAM](1行目 1文字目)" in caught.value.message_ja
    assert "[TENPO_NAME] の誤りではありませんか" in caught.value.message_ja


def test_every_context_refuses_typos_by_the_same_checker():
    for context in ("order", "record", "member"):
        assert [u.written for u in find_unknown("[tenpo_name]", context)] == ["[tenpo_name]"]
