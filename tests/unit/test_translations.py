"""The UI speaks Japanese: every message the code or a template shows has a translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("shopmail/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def test_every_ui_message_has_a_japanese_translation():
    with (ROOT / "shopmail/translations/ja/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string}
    used = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        used.add(message[0] if isinstance(message, tuple) else message)
    missing = sorted(used - translated)
    assert not missing, f"messages without a Japanese translation: {missing}"
    assert len(used) > 50


def test_each_message_is_translated_once():
    """Two entries for one msgid make the catalogue's answer depend on their order."""
    text = (ROOT / "shopmail/translations/ja/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    ids = [line for line in text.splitlines() if line.startswith("msgid ")]
    duplicates = {i for i in ids if ids.count(i) > 1 and i != 'msgid ""'}
    assert not duplicates, f"msgids translated twice: {sorted(duplicates)}"
