"""Address validation, legacy carrier addresses, PC / mobile and Rakuten mask detection."""

import pytest

from shopmail.mail.addresses import (
    Address,
    AddressError,
    contains_rakuten_mask,
    device_of,
    is_mobile,
    is_rakuten_mask,
    on_domain,
    parse_address,
    parse_address_list,
)


def test_ordinary_address_keeps_local_part_and_lowercases_domain():
    address = parse_address("Taro.Yamada@Example.CO.JP")
    assert address == Address("Taro.Yamada@example.co.jp", "Taro.Yamada", "example.co.jp", False)
    assert address.smtp == "Taro.Yamada@example.co.jp"


def test_surrounding_blanks_are_ignored():
    assert parse_address("  a@example.com ").addr == "a@example.com"


@pytest.mark.parametrize(
    "text",
    ["taro..x.@docomo.ne.jp", ".taro@ezweb.ne.jp", "a..b@DOCOMO.ne.jp", "x.@sub.docomo.ne.jp"],
)
def test_pre_2009_carrier_addresses_are_accepted_as_legacy(text):
    address = parse_address(text)
    assert address.legacy
    assert address.smtp == f'"{address.local}"@{address.domain}'


def test_legacy_address_is_quoted_for_the_wire():
    assert parse_address("taro..x.@docomo.ne.jp").smtp == '"taro..x."@docomo.ne.jp'


@pytest.mark.parametrize(
    "text",
    [
        "taro..x@gmail.com",  # the leniency is for docomo / au only
        "a..b@notdocomo.ne.jp",
        "ta ro..x@docomo.ne.jp",
        "ta<ro..@docomo.ne.jp",
        "tarö..@docomo.ne.jp",
        "a" * 65 + "..@docomo.ne.jp",
    ],
)
def test_broken_addresses_outside_the_leniency_are_refused(text):
    with pytest.raises(AddressError):
        parse_address(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a@example.com\r\nBcc: x@example.com", "control"),
        ("a@example.com\n", "control"),
        ("a@exa\x00mple.com", "control"),
        ("a@example.com\u2028", "control"),
        ("a b@example.com", "space"),
        ("Taro <a@example.com>", "display_name"),
        ("a@example.com, b@example.com", "multiple"),
        ("a@example.com;b@example.com", "multiple"),
        ("example.com", "missing_at"),
        ("a@@example.com", "invalid"),
        ("a@localhost", "invalid"),
        ("日本@example.com", "invalid"),
        ("a" * 65 + "@example.com", "too_long"),
        ("a" * 65 + "@docomo.ne.jp", "too_long"),
        ("a@" + ("b" * 60 + ".") * 5 + "jp", "too_long"),
        ("=?utf-8?q?a=0D=0ABcc=3A_x?=@example.com", "encoded_word"),
    ],
)
def test_refusals_say_why(text, code):
    with pytest.raises(AddressError) as caught:
        parse_address(text)
    assert caught.value.code == code
    assert caught.value.message_ja and caught.value.message_en


def test_bcc_list_parses_comma_separated_addresses():
    assert [a.addr for a in parse_address_list("a@example.com , b@example.jp,c@x.example.org")] == [
        "a@example.com",
        "b@example.jp",
        "c@x.example.org",
    ]
    assert parse_address_list("") == []
    assert parse_address_list("  ") == []


def test_bcc_list_error_names_the_bad_item():
    with pytest.raises(AddressError) as caught:
        parse_address_list("a@example.com, not-an-address, c@example.com")
    assert "2" in caught.value.message_en and "not-an-address" in caught.value.message_en
    assert "not-an-address" in caught.value.message_ja
    assert caught.value.value.strip() == "not-an-address"


@pytest.mark.parametrize(
    ("addr", "mobile"),
    [
        ("a@docomo.ne.jp", True),
        ("a@DoCoMo.ne.jp", True),
        ("a@ezweb.ne.jp", True),
        ("a@au.com", True),
        ("a@softbank.ne.jp", True),
        ("a@i.softbank.jp", True),
        ("a@x.docomo.ne.jp", True),
        ("a@notdocomo.ne.jp", False),
        ("a@docomo.ne.jp.example.com", False),
        ("a@gmail.com", False),
    ],
)
def test_mobile_is_decided_by_domain(addr, mobile):
    assert is_mobile(addr) is mobile


def test_mobile_accepts_parsed_addresses_and_custom_domains():
    assert is_mobile(parse_address("taro..x.@docomo.ne.jp"))
    assert is_mobile("a@carrier.example", mobile_domains=("carrier.example",))
    assert not is_mobile("a@docomo.ne.jp", mobile_domains=("carrier.example",))


def test_rakuten_mask_addresses():
    assert is_rakuten_mask("abc123@shop.rakuten.co.jp")
    assert is_rakuten_mask("ABC@Shop.Rakuten.co.jp")
    assert not is_rakuten_mask("info@rakuten.co.jp")
    assert not is_rakuten_mask("x@shop.rakuten.co.jp.example.com")


def test_rakuten_mask_found_inside_a_signature():
    signature = "テスト商店\nお問い合わせ: 1a2b3c@shop.rakuten.co.jp。\nTEL 03-0000-0000"
    assert contains_rakuten_mask(signature)
    assert contains_rakuten_mask("mail: X@SHOP.RAKUTEN.CO.JP")
    assert not contains_rakuten_mask("info@example.jp / https://shop.rakuten.co.jp/store/")
    assert not contains_rakuten_mask("a@shop.rakuten.co.jp.example.com")


def test_on_domain_matches_domain_and_subdomains_only():
    assert on_domain("a@mail.example.jp", "example.jp")
    assert on_domain("a@EXAMPLE.jp", "example.jp")
    assert not on_domain("a@badexample.jp", "example.jp")


@pytest.mark.parametrize(
    "text",
    [
        "taro@example.jp",
        "Taro.Yamada+news@Mail.Example.CO.JP",
        "a_b-c%d@sub-1.example.com",
        "x@test",
        "x@shop.test",
        "x@localhost",
        "x@-bad.example.jp",
        "x@bad-.example.jp",
        "x.@example.jp",
        ".x@example.jp",
        "x..y@example.jp",
        "x@example.j",
        "x@example",
        "a" * 64 + "@example.jp",
        "x@" + "a" * 64 + ".jp",
        '"quoted"@example.jp',
        "x!y@example.jp",
        "x@例え.jp",
    ],
)
def test_the_fast_path_agrees_with_email_validator(text):
    """Plain addresses skip email-validator for speed; every verdict must be the same. (The
    desk is stricter only on RFC 5321's lengths, which email-validator lets pass: a local part
    of 65 is refused above.)"""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(text, check_deliverability=False, allow_smtputf8=False)
        expected = f"{valid.local_part}@{valid.ascii_domain.lower()}"
    except EmailNotValidError:
        expected = None
    try:
        got = parse_address(text).addr
    except AddressError:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("addr", "device"),
    [
        ("taro@docomo.ne.jp", "mobile"),
        ("taro@EZWEB.ne.jp", "mobile"),
        ("taro@sub.softbank.ne.jp", "mobile"),
        ("taro@notdocomo.ne.jp", "pc"),
        ("taro@example.jp", "pc"),
        ("", "pc"),
    ],
)
def test_device_of_picks_the_mobile_template_by_carrier_domain(addr, device):
    assert device_of(addr) == device
    if addr:
        assert device_of(parse_address(addr)) == device
