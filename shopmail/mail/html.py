"""HTML mail bodies: MJML to HTML, HTML sanitising, and the plain-text alternative.

Every HTML broadcast also carries a text part; :func:`html_to_text` derives it when staff did
not write one, so it has to read well rather than merely strip tags.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

import nh3
from mjml import mjml2html

__all__ = ["MjmlError", "html_to_text", "mjml_to_html", "mjml_with_signature", "sanitize_html"]


class MjmlError(ValueError):
    """The MJML source could not be rendered; says why in Japanese and English (the
    renderer's own words kept in ``detail``)."""

    def __init__(self, message_ja: str, message_en: str, detail: str = "") -> None:
        self.message_ja, self.message_en, self.detail = message_ja, message_en, detail
        super().__init__(message_en)


# The renderer's (mrml's) messages, as a merchant reads them.
_MJML_PROBLEMS = (
    (
        re.compile(r"unexpected end of stream"),
        "MJML が途中で終わっています。閉じタグ(</mj-text> など)が足りないか確認してください。",
        "The MJML ends too early: a closing tag (such as </mj-text>) is missing.",
    ),
    (
        re.compile(r"unexpected token .*?at position (\d+):\d+"),
        "{0}文字目付近に MJML として読めない記述があります"
        "(タグの書き方や < > の対応を確認してください)。",
        "Near character {0} there is something that cannot be read as MJML.",
    ),
    (
        re.compile(r"unable to parse next template"),
        "MJML として読めません。"
        "<mjml><mj-body>…</mj-body></mjml> の形で書かれているか確認してください。",
        "This cannot be read as MJML: write it as <mjml><mj-body>…</mj-body></mjml>.",
    ),
)


def _mjml_error(detail: str) -> MjmlError:
    for pattern, ja, en in _MJML_PROBLEMS:
        found = pattern.search(detail)
        if found:
            where = [int(group) + 1 for group in found.groups()]  # 1-based, as people count
            return MjmlError(ja.format(*where), en.format(*where), detail)
    return MjmlError(
        f"MJML を HTML に変換できませんでした(詳細: {detail})。",
        f"The MJML could not be rendered ({detail}).",
        detail,
    )


def mjml_to_html(source: str) -> str:
    """Render an MJML document (``<mjml><mj-body>…``) to a complete HTML document."""
    if not source or not source.strip():
        raise MjmlError("MJML テンプレートが空です。", "The MJML template is empty.")
    try:
        html = mjml2html(source)
    # ValueError for bad markup; the Rust binding may raise other types on odd input.
    except Exception as exc:
        raise _mjml_error(str(exc)) from None
    if not html.strip():
        raise MjmlError(
            "MJML を変換した結果が空になりました。",
            "The MJML template rendered to an empty document.",
        )
    return html


_LAST_COLUMN_END = re.compile(r"</mj-column\s*>(?![\s\S]*</mj-column\s*>)", re.IGNORECASE)
_BODY_END = re.compile(r"</mj-body\s*>", re.IGNORECASE)


def mjml_with_signature(source: str, signature: str) -> str:
    """`source` with `signature` (text, e.g. the tag ``[SIGN]``) as the last text of its last
    column: inside the layout, in its width, fonts and colours. Without a column, a section of
    its own at the end of the body."""
    block = f'<mj-text><div style="white-space:pre-line">{signature}</div></mj-text>'
    at = _LAST_COLUMN_END.search(source)
    if at is not None:
        return source[: at.start()] + block + source[at.start() :]
    at = _BODY_END.search(source)
    section = f"<mj-section><mj-column>{block}</mj-column></mj-section>"
    if at is not None:
        return source[: at.start()] + section + source[at.start() :]
    return source


# Tables, layout attributes and inline styles are how e-mail HTML is written.
_TAGS = nh3.ALLOWED_TAGS | {"font", "style", "center", "tfoot"}
_GENERIC_ATTRIBUTES = {
    "style",
    "class",
    "id",
    "align",
    "valign",
    "width",
    "height",
    "bgcolor",
    "background",
    "border",
    "cellpadding",
    "cellspacing",
    "color",
    "dir",
    "lang",
    "title",
}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _GENERIC_ATTRIBUTES,
    "a": {"href", "name", "target"},
    "img": {"src", "alt"},
    "font": {"face", "size"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap", "scope"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "col": {"span"},
    "colgroup": {"span"},
    "table": {"summary", "role"},
}
_DOCUMENT = re.compile(r"<\s*(?:!doctype|html|body)\b", re.IGNORECASE)


def sanitize_html(html: str) -> str:
    """Keep ordinary mail markup; drop scripts, frames, event handlers and unsafe URLs.

    Links may only be http, https or mailto. A whole document comes back as a whole document
    (with a UTF-8 meta tag) because the sanitiser itself only keeps the body's content.
    """
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "title", "iframe", "object", "embed", "noscript"},
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
    if _DOCUMENT.search(html):
        return (
            '<!doctype html>\n<html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"</head><body>{cleaned}</body></html>"
        )
    return cleaned


@functools.lru_cache(maxsize=64)
def tags_in_attributes(parts: tuple[str, ...]) -> bool:
    """Whether a template split into literal parts and tag slots (`tags.Template.parts`) has
    a slot inside a tag's attributes, i.e. inside `<…>`."""
    inside = False
    for index, part in enumerate(parts):
        if index % 2:  # a slot
            if inside:
                return True
            continue
        opened, closed = part.rfind("<"), part.rfind(">")
        inside = opened > closed or (inside and closed < 0)
    return False


_BLOCK = frozenset(
    {
        *("address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"),
        *("h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section"),
        *("table", "tbody", "thead", "tfoot", "tr", "ul"),
    }
)
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
# Text a mail client never shows: inbox preview text (MJML's <mj-preview>), Outlook-only parts.
_HIDDEN = re.compile(r"display\s*:\s*none|mso-hide\s*:\s*all", re.IGNORECASE)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.hidden_depth = 0  # inside an element styled invisible (MJML's <mj-preview> text)
        self.pre_depth = 0
        self.links: list[tuple[str, int]] = []  # (href, index in out where the text began)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID and self.hidden_depth:
            return
        if self.hidden_depth or _HIDDEN.search(dict(attrs).get("style") or ""):
            if tag not in _VOID:
                self.hidden_depth += 1
            return
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(alt)
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table", "hr") else "\n")
        if tag == "pre":
            self.pre_depth += 1
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden_depth:
            if tag not in _VOID:
                self.hidden_depth -= 1
            return
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = re.sub(r"\s+", " ", "".join(self.out[start:])).strip()
            target = href[7:] if href.lower().startswith("mailto:") else href
            if href and not href.startswith("#") and target not in label:
                self.out.append(f" ({target})" if label else target)
        elif tag in _BLOCK and tag != "li":  # the next item starts its own line
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.hidden_depth:
            return
        if self.pre_depth:
            self.out.append(data)
        else:
            # Source line breaks and indentation are not visible in HTML.
            self.out.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text: blocks become lines, links become ``text (url)``."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
