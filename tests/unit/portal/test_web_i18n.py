"""Locale choice, merged catalogues and the language switch's redirect target."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from portal.i18n import LANG_COOKIE, load_catalogue, negotiate, request_locale, translator
from portal.routes.public import safe_next


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-TW;q=0.8, en;q=0.5", "zh_CN"),
        ("de, fr", "en"),
        ("en;q=0.2, zh;q=0.7", "zh_CN"),
        ("zh;q=0, en", "en"),
        ("*", "en"),
        ("en;q=bogus, zh", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("zh-Hans-CN, en;q=0.9", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-cn;q=0.4, en-GB;q=0.6", "en"),
        ("en-GB", "en"),
        ("fr-CA, tlh;q=0.9, x-klingon;q=0.8", "en"),
        ("en;q=0.5, zh-TW;q=0.5", "en"),
        ("pt-BR, zh-Hant-HK;q=0.3", "zh_CN"),
    ],
)
def test_accept_language_picks_the_best_supported_locale(header: str, locale: str) -> None:
    """Accept-Language is ranked by q; Chinese variants get zh_CN; otherwise English."""
    assert negotiate(header) == locale


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def test_language_cookie_wins_over_accept_language() -> None:
    """The switch's cookie decides, whatever the browser's header says."""
    request = _request({"accept-language": "en", "cookie": f"{LANG_COOKIE}=zh-CN"})

    assert request_locale(request) == "zh_CN"
    assert translator(request)("Speak Up") == "安心举报"


@pytest.mark.parametrize("tag", ["zh", "zh-Hans", "zh-TW", "ZH-cn"])
def test_cookie_with_any_chinese_tag_chooses_chinese(tag: str) -> None:
    """The cookie is matched like a header tag, so a Chinese variant still means zh_CN."""
    request = _request({"accept-language": "en-GB", "cookie": f"{LANG_COOKIE}={tag}"})

    assert request_locale(request) == "zh_CN"


def test_english_cookie_wins_over_a_chinese_header() -> None:
    """Switching to English sticks even when the browser prefers Chinese."""
    request = _request({"accept-language": "zh-CN,zh;q=0.9", "cookie": f"{LANG_COOKIE}=en"})

    assert request_locale(request) == "en"


def test_unknown_cookie_value_falls_back_to_the_header() -> None:
    """A cookie naming no supported language is ignored."""
    request = _request({"accept-language": "zh-CN", "cookie": f"{LANG_COOKIE}=xx"})

    assert request_locale(request) == "zh_CN"


def test_english_translator_returns_the_message_itself() -> None:
    """English needs no msgstr: the msgid is the English text."""
    assert translator(_request({"accept-language": "en"}))("Speak Up") == "Speak Up"


def test_catalogues_of_one_locale_are_merged_first_wins(tmp_path: Path) -> None:
    """Every <area>.po of a locale is merged; a msgid in two files keeps the first one."""
    directory = tmp_path / "zh_CN"
    directory.mkdir()
    (directory / "a.po").write_text('msgid "One"\nmsgstr "一"\n', encoding="utf-8")
    (directory / "b.po").write_text(
        'msgid "One"\nmsgstr "壹"\n\nmsgid "Two"\nmsgstr "二"\n', encoding="utf-8"
    )

    catalogue = load_catalogue("zh_CN", tmp_path)

    one, two = catalogue.get("One"), catalogue.get("Two")
    assert one is not None
    assert one.string == "一"
    assert two is not None
    assert two.string == "二"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/status", "/status"),
        ("/report?step=2", "/report?step=2"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\\..", "/"),
        ("/a\r\nSet-Cookie: x=y", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_language_switch_returns_only_to_same_site_paths(target: str | None, expected: str) -> None:
    """``next`` must be a local path; anything that could leave the site becomes /."""
    assert safe_next(target) == expected
