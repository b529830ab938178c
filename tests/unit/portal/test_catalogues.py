"""Every translatable message in portal/ and templates/ is in both catalogues, Chinese filled in."""

from __future__ import annotations

import re
from pathlib import Path

from portal.i18n import LOCALES, extract_messages, load_catalogue, missing_messages


def test_every_message_is_in_every_catalogue_and_translated_into_chinese() -> None:
    """Babel's extractors find no msgid that the en or zh_CN catalogue misses or leaves empty."""
    found = extract_messages()

    problems = missing_messages(found)

    assert len(found) > 20
    assert problems == [], "add these to portal/locales/<locale>/<area>.po:\n" + "\n".join(problems)


def test_checker_reports_a_message_missing_from_a_catalogue(tmp_path: Path) -> None:
    """A new _() call in a source file is reported for each locale until it is catalogued."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "page.html").write_text("<p>{{ _('A brand new sentence') }}</p>")
    (source / "code.py").write_text("_('Another new sentence')\n")
    for locale in LOCALES:
        (tmp_path / "locales" / locale).mkdir(parents=True)

    problems = missing_messages(extract_messages([source]), locales_dir=tmp_path / "locales")

    assert len(problems) == 4
    assert any("zh_CN: missing 'A brand new sentence'" in line for line in problems)


def test_checker_reports_an_empty_chinese_translation(tmp_path: Path) -> None:
    """A zh_CN entry whose msgstr is empty counts as untranslated; an empty en one does not."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "code.py").write_text("_('Hello')\n")
    for locale in LOCALES:
        directory = tmp_path / "locales" / locale
        directory.mkdir(parents=True)
        (directory / "area.po").write_text('msgid "Hello"\nmsgstr ""\n')

    problems = missing_messages(extract_messages([source]), locales_dir=tmp_path / "locales")

    assert problems == ["zh_CN: untranslated 'Hello' (src/code.py:1)"]


def test_no_message_has_a_bare_percent_sign() -> None:
    """Templates format every message with %, so a lone % (not %% or %(name)s) breaks the page."""
    allowed = re.compile(r"%%|%\([a-z_]+\)[sd]")

    def bare(text: object) -> bool:
        return isinstance(text, str) and "%" in allowed.sub("", text)

    offenders = [
        f"{locale}: {message.id!r} -> {message.string!r}"
        for locale in LOCALES
        for message in load_catalogue(locale)
        if message.id and (bare(message.id) or bare(message.string))
    ]

    assert offenders == []
