"""MJML rendering, HTML sanitising and the derived plain-text part."""

import pytest

from shopmail.mail.html import MjmlError, html_to_text, mjml_to_html, sanitize_html

MJML = """
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text font-size="16px">[MEMBER_NAME] 様、新商品のお知らせです。</mj-text>
        <mj-button href="https://shop.example.jp/new">商品を見る</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


def test_mjml_renders_to_an_html_document():
    html = mjml_to_html(MJML)
    assert html.lower().startswith("<!doctype html>")
    assert "[MEMBER_NAME] 様、新商品のお知らせです。" in html
    assert 'href="https://shop.example.jp/new"' in html


@pytest.mark.parametrize("source", ["", "   ", "not mjml at all", "<mjml><mj-body>"])
def test_invalid_mjml_raises_a_readable_error(source):
    with pytest.raises(MjmlError) as caught:
        mjml_to_html(source)
    assert str(caught.value)


def test_sanitize_keeps_mail_markup_and_inline_styles():
    html = (
        '<table width="600" cellpadding="0" bgcolor="#ffffff" style="border:0">'
        '<tr><td align="center" style="color:#333333">'
        '<a href="https://shop.example.jp/" style="color:red">見る</a>'
        '<a href="mailto:info@example.jp">連絡</a>'
        '<img src="https://shop.example.jp/logo.png" alt="ロゴ" width="120">'
        "</td></tr></table>"
    )
    cleaned = sanitize_html(html)
    for kept in [
        'width="600"',
        'bgcolor="#ffffff"',
        'style="color:#333333"',
        'align="center"',
        'href="https://shop.example.jp/"',
        'href="mailto:info@example.jp"',
        'src="https://shop.example.jp/logo.png"',
        "見る",
    ]:
        assert kept in cleaned


def test_sanitize_drops_scripts_frames_handlers_and_unsafe_links():
    html = (
        '<p onclick="steal()">hello</p><script>alert(1)</script>'
        '<iframe src="https://evil.example/"></iframe>'
        '<a href="javascript:alert(1)">x</a><img src="data:image/png;base64,AAAA" onerror="x()">'
    )
    cleaned = sanitize_html(html)
    assert "hello" in cleaned
    for gone in ["onclick", "script", "alert", "iframe", "javascript:", "onerror", "data:"]:
        assert gone not in cleaned


def test_sanitized_mjml_output_stays_a_document():
    cleaned = sanitize_html(mjml_to_html(MJML))
    assert cleaned.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in cleaned
    assert "新商品のお知らせです。" in cleaned


def test_html_to_text_reads_like_the_mail():
    html = """
    <html><head><title>t</title><style>p { color: red }</style></head><body>
      <h1>新商品のお知らせ</h1>
      <p>山田 様、<br>いつも   ありがとうございます。</p>
      <ul><li>商品A &amp; 商品B</li><li>送料無料</li></ul>
      <p><a href="https://shop.example.jp/new">詳しくはこちら</a></p>
      <p><a href="https://shop.example.jp/">https://shop.example.jp/</a></p>
      <table><tr><td>合計</td><td>1,000円</td></tr></table>
      <script>var x = 1;</script>
    </body></html>
    """
    assert html_to_text(html) == (
        "新商品のお知らせ\n\n"
        "山田 様、\nいつも ありがとうございます。\n\n"
        "- 商品A & 商品B\n- 送料無料\n\n"
        "詳しくはこちら (https://shop.example.jp/new)\n\n"
        "https://shop.example.jp/\n\n"
        "合計 1,000円"
    )


def test_html_to_text_of_mjml_output_contains_the_words():
    text = html_to_text(mjml_to_html(MJML))
    assert "[MEMBER_NAME] 様、新商品のお知らせです。" in text
    assert "商品を見る (https://shop.example.jp/new)" in text
    assert "<" not in text
