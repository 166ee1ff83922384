"""The template editor in Chromium: tag typos are flagged in the live preview, with line and
column, beside the editor on a wide screen; a clear typo cannot be saved."""

from __future__ import annotations

from playwright.sync_api import expect

from shopmail.extensions import db
from tests.conftest import PASSWORD
from tests.factories import OrderFactory, StoreFactory


def test_tag_typos_show_in_the_live_preview_with_line_and_column(app, sign_in, admin, live_server):
    store = StoreFactory(code="own", name="さくら雑貨 本店", from_name="さくら雑貨")
    OrderFactory(store=store, number="P-1", buyer_name="山田 花子")
    db.session.commit()
    page = sign_in(admin, PASSWORD)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server}/automatic/templates?store=default&kind=follow_up&device=pc")

    body = page.get_by_label("本文")
    body.fill("[BUYER_NAME] 様\n[tenpo_name]より\n  ［ORDER_NO］ TENPO_NAME]\nORDER_NO")
    body.press("End")  # a keystroke, as typing triggers the preview
    notes = page.locator("#preview .tag-note")
    expect(notes.filter(has_text="2行目 1文字目")).to_contain_text("「[tenpo_name]」")
    expect(notes.filter(has_text="2行目 1文字目")).to_contain_text("保存不可")
    expect(notes.filter(has_text="3行目 3文字目")).to_contain_text("［ORDER_NO］")
    expect(notes.filter(has_text="3行目 14文字目")).to_contain_text("TENPO_NAME]")
    expect(notes.filter(has_text="4行目 1文字目")).to_contain_text("要確認")
    expect(page.locator("#preview .preview-body")).to_contain_text("山田 花子 様")

    # Beside the editor, not below it: the preview's top is level with the form's.
    form_box = page.locator("#template-form").bounding_box()
    preview_box = page.locator(".template-preview").bounding_box()
    assert preview_box["x"] > form_box["x"] + form_box["width"] - 1
    assert preview_box["y"] < form_box["y"] + 100

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("保存されませんでした")
    expect(page.locator(".field-error").first).to_contain_text("「[tenpo_name]」(2行目 1文字目")
