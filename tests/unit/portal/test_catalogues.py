"""Every message in cases/, portal/ and templates/ is in both catalogues, in Chinese too."""

from __future__ import annotations

import re
from pathlib import Path

from cases.errors import Message
from portal.i18n import (
    LOCALES,
    extract_messages,
    load_catalogue,
    missing_messages,
    translations,
    untranslatable_messages,
)


def test_every_message_is_in_every_catalogue_and_translated_into_chinese() -> None:
    """Babel's extractors find no msgid that the en or zh_CN catalogue misses or leaves empty."""
    found = extract_messages()

    problems = missing_messages(found)

    assert len(found) > 20
    assert problems == [], "add these to portal/locales/<locale>/<area>.po:\n" + "\n".join(problems)


def test_the_domain_s_messages_are_extracted() -> None:
    """Raise sites, constants and default messages in cases/ reach the catalogue check."""
    in_cases = {f.msgid for f in extract_messages() if f.where.startswith("cases/")}

    assert "Write something first." in in_cases  # Invalid("…") at a raise site
    assert "There is no such case." in in_cases
    assert "Wrong e-mail or password." in in_cases  # a module constant
    assert "Not found." in in_cases  # a class's default message
    assert "Line %(line)d: expected %(count)d columns" in in_cases  # Message(…)


def test_no_error_message_is_an_f_string() -> None:
    """An f-string message can never match a catalogue entry: raise sites use Message instead."""
    assert untranslatable_messages() == []


def test_checker_reports_a_new_domain_message(tmp_path: Path) -> None:
    """A raise with a new message, a constant or a Message is reported until it is catalogued."""
    source = tmp_path / "cases"
    source.mkdir()
    (source / "rules.py").write_text(
        'GONE = "A constant refusal"\n'
        "def check(n):\n"
        '    if n == 1: raise Invalid("A brand new refusal", fields={"x": "required"})\n'
        "    if n == 2: raise errors.Conflict(GONE, code='gone')\n"
        '    raise NotFound(Message("Line %(line)d is new", line=n))\n'
        '    raise Conflict(f"Case {n} moved")\n'
    )
    for locale in LOCALES:
        (tmp_path / "locales" / locale).mkdir(parents=True)

    problems = missing_messages(extract_messages([source]), locales_dir=tmp_path / "locales")

    missing = {line.split(" (")[0] for line in problems if line.startswith("zh_CN")}
    assert missing == {
        "zh_CN: missing 'A brand new refusal'",
        "zh_CN: missing 'A constant refusal'",
        "zh_CN: missing 'Line %(line)d is new'",
    }
    assert untranslatable_messages([source]) == ["f-string message at cases/rules.py:6"]


def test_a_message_with_values_is_translated_and_filled_in() -> None:
    """A Message reads as English text and translates by its msgid, values filled in."""
    message = Message("Line %(line)d: expected %(count)d columns", line=4, count=7)

    assert message == "Line 4: expected 7 columns"
    assert translations("zh_CN").gettext(message) == "第 4 行：应有 7 列"
    assert translations("zh_CN").gettext("There is no such case.") == "没有这个案件。"


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
