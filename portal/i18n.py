"""Translation: merges each locale's .po catalogues, picks a request's locale, checks coverage.

Catalogues are plain Babel ``.po`` files, one per area and locale
(``portal/locales/<locale>/<area>.po``). They are merged and compiled in memory
when first used, so contributors never run a compile step. ``python -m
portal.i18n check`` lists every message in the sources that a catalogue misses.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path
from typing import IO, Any, TypeGuard, cast

from babel.core import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.extract import extract_python as babel_extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

from cases.errors import Message

LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "__Host-lang"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
PROJECT_DIR = Path(__file__).resolve().parent.parent
SOURCE_DIRS = (PROJECT_DIR / "cases", PROJECT_DIR / "portal", PROJECT_DIR / "templates")

# BCP 47 tags for the `lang` attribute, the switch links and the cookie value.
_TAGS = {"en": "en", "zh_CN": "zh-CN"}
# The tags Babel negotiates against, and the locale each stands for. Any Chinese variant
# (zh, zh-Hans, zh-TW…) gets Simplified Chinese: closer to a Traditional reader than English.
_AVAILABLE = ["en", "zh-CN", "zh"]
_BY_TAG = {"en": "en", "zh-cn": "zh_CN", "zh": "zh_CN"}

# The error classes' first argument is an English msgid, translated where it is shown, so a
# raise site such as ``Invalid("Write something first.")`` is extracted like ``_()``.
ERROR_CLASSES = (
    "CaseError",
    "Invalid",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Throttled",
    "BadRequest",
    "TooLarge",
    "UnsupportedMediaType",
    "UnsupportedForm",
    "NotJson",
)

_JINJA = "jinja2.ext:babel_extract"
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


class Translations(GNUTranslations):
    """gettext that also translates a ``cases.errors.Message``: by msgid, values filled in."""

    def gettext(self, message: str) -> str:
        if isinstance(message, Message):
            text = super().gettext(message.msgid)
            return text % dict(message.params) if message.params else text
        return super().gettext(message)


def extract_python(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: Any
) -> Iterator[Any]:
    """Babel's Python extractor, plus the messages given to the error classes and ``Message``.

    ``raise Invalid("Write something first.")``, ``Forbidden(NOT_YOURS)`` (a module constant)
    and ``Message("Line %(line)d", line=n)`` are extracted as if written ``_()``.
    """
    source = fileobj.read()
    yield from babel_extract_python(BytesIO(source), keywords, comment_tags, options)
    for lineno, msgid in _error_messages(ast.parse(source)):
        yield lineno, "N_", msgid, []


def _error_messages(tree: ast.Module) -> Iterator[tuple[int, str]]:
    constants = _string_constants(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _called(node) in {*ERROR_CLASSES, "Message"}):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
            yield node.lineno, first.value
        elif isinstance(first, ast.Name) and first.id in constants:
            yield node.lineno, constants[first.id]


def _is_error_call(node: ast.AST) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and _called(node) in ERROR_CLASSES and bool(node.args)


def _called(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` (or ``NAME = N_("text")``) assignments."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(value, ast.Call) and _called(value) == "N_" and value.args:
                value = value.args[0]
            text = value.value if isinstance(value, ast.Constant) else None
            if isinstance(target, ast.Name) and isinstance(text, str):
                found[target.id] = text
    return found


def untranslatable_messages(source_dirs: Iterable[Path] = SOURCE_DIRS) -> list[str]:
    """Error raise sites whose message is an f-string: it can never match a catalogue entry.

    Write ``Invalid(Message("Line %(line)d: …", line=n))`` instead.
    """
    problems: list[str] = []
    for directory in source_dirs:
        for path in sorted(directory.rglob("*.py")):
            if "cli" in path.relative_to(directory).parts:
                continue  # the command line speaks English to the operator
            for node in ast.walk(ast.parse(path.read_bytes())):
                if _is_error_call(node) and isinstance(node.args[0], ast.JoinedStr):
                    where = path.relative_to(directory.parent)
                    problems.append(f"f-string message at {where}:{node.lineno}")
    return problems


def tag_for(locale: str) -> str:
    """The BCP 47 tag of a locale: ``zh_CN`` → ``zh-CN``."""
    return _TAGS[locale]


def locale_from_tag(tag: str) -> str | None:
    """The supported locale a language tag asks for (Babel's matching), or None."""
    return _matched([tag])


def negotiate(accept_language: str) -> str:
    """The best supported locale for an Accept-Language header; English when none fits.

    The header is ranked by q-value (q=0 refuses a language); Babel's ``negotiate_locale``
    then matches the ranked tags against the supported ones: an exact tag, Babel's alias
    (``zh`` → ``zh_CN``), else the language alone (``en-GB`` → ``en``, ``zh-TW`` → ``zh``).
    """
    return _matched(_ranked_tags(accept_language)) or DEFAULT_LOCALE


def _matched(tags: Sequence[str]) -> str | None:
    preferred = [tag.strip().replace("_", "-") for tag in tags if tag.strip() not in ("", "*")]
    found = negotiate_locale(preferred, _AVAILABLE, sep="-")
    return _BY_TAG.get(found.lower()) if found else None


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
    return Translations(buffer)


@dataclass(frozen=True)
class Found:
    """One translatable message found in the sources, with where it was found."""

    msgid: str
    context: str | None
    where: str


def extract_messages(source_dirs: Iterable[Path] = SOURCE_DIRS) -> list[Found]:
    """Every message marked for translation in the Python sources and Jinja templates.

    Marked means passed to ``_``/``N_``/gettext, or given as the message of an error class.
    """
    found: list[Found] = []
    for directory in source_dirs:
        for filename, lineno, message, _comments, context in extract_from_dir(
            directory, cast(Any, [("**.py", extract_python), ("**.html", _JINJA)]), _OPTIONS_MAP
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
    problems = [*untranslatable_messages(), *missing_messages(extract_messages())]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
