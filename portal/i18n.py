"""Translation: merges each locale's .po catalogues, picks a request's locale, checks coverage.

Catalogues are plain Babel ``.po`` files, one per area and locale
(``portal/locales/<locale>/<area>.po``). They are merged and compiled in memory
when first used, so contributors never run a compile step. ``python -m
portal.i18n check`` lists every message in the sources that a catalogue misses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "__Host-lang"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
PROJECT_DIR = Path(__file__).resolve().parent.parent
SOURCE_DIRS = (PROJECT_DIR / "portal", PROJECT_DIR / "templates")

# BCP 47 tags for the `lang` attribute, the switch links and the cookie value.
_TAGS = {"en": "en", "zh_CN": "zh-CN"}
# Any Chinese variant gets Simplified Chinese: closer to a Traditional reader than English.
_PRIMARY = {"en": "en", "zh": "zh_CN"}

_METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2.ext:babel_extract")]
# The options match the Jinja environment of portal/templating.py; silent=false surfaces
# template syntax errors instead of silently extracting nothing from the file.
_OPTIONS_MAP = {
    "**.html": {
        "trimmed": "true",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
        "silent": "false",
    }
}


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where shown."""
    return message


def tag_for(locale: str) -> str:
    """The BCP 47 tag of a locale: ``zh_CN`` → ``zh-CN``."""
    return _TAGS[locale]


def locale_from_tag(tag: str) -> str | None:
    """The supported locale a language tag asks for, or None."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return _PRIMARY.get(primary)


def negotiate(accept_language: str) -> str:
    """The best supported locale for an Accept-Language header; English when none fits."""
    for tag in _ranked_tags(accept_language):
        locale = locale_from_tag(tag)
        if locale:
            return locale
    return DEFAULT_LOCALE


def _ranked_tags(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = _quality(params)
        if tag.strip() and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    return [tag for _q, _i, tag in sorted(ranked)]


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def request_locale(conn: HTTPConnection) -> str:
    """The request's locale: the switch cookie, else Accept-Language, else English."""
    chosen = locale_from_tag(conn.cookies.get(LANG_COOKIE, ""))
    return chosen or negotiate(conn.headers.get("accept-language", ""))


def translator(conn: HTTPConnection) -> Callable[[str], str]:
    """``_`` for Python code: ``_ = translator(request); _("Text")``."""
    return translations(request_locale(conn)).gettext


def translations_for(conn: HTTPConnection) -> GNUTranslations:
    """The whole gettext object (ngettext, pgettext…) for the request's locale."""
    return translations(request_locale(conn))


@cache
def translations(locale: str) -> GNUTranslations:
    """The merged catalogue of a locale, compiled in memory once per process."""
    return compile_catalogue(load_catalogue(locale))


def load_catalogue(locale: str, locales_dir: Path = LOCALES_DIR) -> Catalog:
    """Every ``<locale>/*.po`` merged into one Babel catalogue (the first translation wins)."""
    merged = Catalog(locale=locale)
    for path in sorted((locales_dir / locale).glob("*.po")):
        with path.open("rb") as handle:
            part = read_po(handle, locale=locale)
        for message in part:
            if message.id and merged.get(message.id, message.context) is None:
                merged[message.id] = message
    return merged


def compile_catalogue(catalogue: Catalog) -> GNUTranslations:
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return GNUTranslations(buffer)


@dataclass(frozen=True)
class Found:
    """One translatable message found in the sources, with where it was found."""

    msgid: str
    context: str | None
    where: str


def extract_messages(source_dirs: Iterable[Path] = SOURCE_DIRS) -> list[Found]:
    """Every message marked for translation in the Python sources and Jinja templates."""
    found: list[Found] = []
    for directory in source_dirs:
        for filename, lineno, message, _comments, context in extract_from_dir(
            directory, _METHOD_MAP, _OPTIONS_MAP
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                where = f"{directory.name}/{filename}:{lineno}"
                found.append(Found(msgid, context, where))
    return found


def missing_messages(
    found: Sequence[Found], locales: Iterable[str] = LOCALES, locales_dir: Path = LOCALES_DIR
) -> list[str]:
    """One line per message a locale lacks; a Chinese entry with no translation counts too."""
    problems: list[str] = []
    for locale in locales:
        catalogue = load_catalogue(locale, locales_dir)
        for item in found:
            entry = catalogue.get(item.msgid, item.context)
            if entry is None:
                problems.append(f"{locale}: missing {item.msgid!r} ({item.where})")
            elif locale != "en" and not _translated(entry.string):
                problems.append(f"{locale}: untranslated {item.msgid!r} ({item.where})")
    return problems


def _translated(string: str | Sequence[str] | None) -> bool:
    if isinstance(string, str):
        return bool(string)
    return bool(string) and all(string or ())


def main(argv: Sequence[str]) -> int:
    """``python -m portal.i18n check``: print what the catalogues miss; exit 1 if anything."""
    if list(argv) != ["check"]:
        print("usage: python -m portal.i18n check", file=sys.stderr)
        return 2
    problems = missing_messages(extract_messages())
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
