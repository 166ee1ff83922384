"""The member filter: URL arguments in, the matching members out (on a real database)."""

from __future__ import annotations

from datetime import date

import pytest

from shopmail.core.member_filter import member_query, parse_filter
from shopmail.extensions import db
from tests.factories import MemberFactory

pytestmark = pytest.mark.usefixtures("clean_state")


@pytest.fixture
def members(app):
    rows = [
        MemberFactory.build(
            number="A1",
            company="さくら商事",
            contact_name="山田 太郎",
            email="taro@example.jp",
            business_type="小売",
            industry="食品",
            display_group="ゴールド",
            last_purchase_on=date(2026, 3, 10),
        ),
        MemberFactory.build(
            number="A2",
            company="100%堂",
            contact_name="佐藤 花子",
            email="hana@example.co.jp",
            wants_mail=False,
            business_type="卸売",
            industry="食品",
            display_group="一般",
            last_purchase_on=date(2025, 12, 1),
        ),
        MemberFactory.build(
            number="A3",
            company="もみじ物産",
            contact_name="鈴木 一郎",
            email="bad@example.jp",
            email_invalid=True,
            business_type="小売",
            industry="雑貨",
            display_group="一般",
        ),
        MemberFactory.build(
            number="B4",
            company="Taro Trading",
            contact_name="Ken",
            email="",
            business_type="小売",
            industry="雑貨",
            display_group="ゴールド",
            last_purchase_on=date(2026, 4, 1),
        ),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def numbers(args: dict) -> list[str]:
    return [m.number for m in db.session.scalars(member_query(args))]


def test_no_arguments_means_every_member_oldest_first(members):
    assert numbers({}) == ["A1", "A2", "A3", "B4"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"invalid": "yes"}, ["A3"]),
        ({"invalid": "no"}, ["A1", "A2", "B4"]),
        ({"wants_mail": "no"}, ["A2"]),
        ({"wants_mail": "yes"}, ["A1", "A3", "B4"]),
        ({"last_purchase": "never"}, ["A3"]),
        ({"last_purchase": "any"}, ["A1", "A2", "B4"]),
        ({"purchased_from": "2026-01-01"}, ["A1", "B4"]),
        ({"purchased_from": "2026-01-01", "purchased_to": "2026-03-31"}, ["A1"]),
        ({"business_type": "卸売"}, ["A2"]),
        ({"industry": "雑貨", "group": "ゴールド"}, ["B4"]),
        ({"q": "taro"}, ["A1", "B4"]),  # e-mail and company, any case
        ({"q": "鈴木"}, ["A3"]),
        ({"q": "b4"}, ["B4"]),  # member number
        ({"q": "100%"}, ["A2"]),  # % is a character, not a wildcard
        ({"q": "%"}, ["A2"]),
        ({"industry": "食品", "wants_mail": "yes", "invalid": "no"}, ["A1"]),
    ],
)
def test_filters(members, args, expected):
    assert numbers(args) == expected


def test_unknown_and_empty_arguments_are_ignored(members):
    wanted = parse_filter({"invalid": "", "page": "3", "evil": "x", "industry": "食品"})
    assert wanted.args == {"industry": "食品"}
    assert numbers({"invalid": "maybe"}) == ["A1", "A2", "A3", "B4"]


def test_a_date_that_is_not_a_date_is_reported_and_ignored(app, members):
    with app.test_request_context():
        wanted = parse_filter({"purchased_from": "2026-13-45", "industry": "雑貨"})
        assert wanted.args == {"industry": "雑貨"} and "2026-13-45" in wanted.errors[0]
    assert numbers(wanted.args) == ["A3", "B4"]
