"""How a typed name, employee id or e-mail is reduced to keys that cannot be dodged by spelling.

Two spellings of one person must share a key: "zhang wei", "ZHANG WEI", "Zhang  Wei",
"Wei Zhang", "Zhang-Wei", "张 伟", "张伟" and "Zhāng Wěi" all do. Keys are compared for
equality only; a shared key is a match. Identifier keys (employee id, e-mail) are exact;
name keys (the name as written, in any order, its aliases, its pinyin) are not, and a
match by them alone must be confirmed by an investigator before it is settled. A name
written with a title or department ("张伟经理", "销售总监张伟", "Mr Zhang Wei (Sales)")
also carries the keys of the names within it, which count when nothing else matches.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import unicodedata
from collections.abc import Collection, Container
from dataclasses import dataclass, field
from importlib import resources

# pypinyin's phrase dictionary reads characters as parts of words (单于 "chan yu"), which
# is not how names are read (单 the family name is "shan"), and it holds 44 MiB in every
# process (docs/deploy.md, "Headroom"). Without it, every reading of each character is
# offered (heteronym=True below), as docs/access.md says. Read by pypinyin at its import.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

from pypinyin import Style, pinyin

import crypto

# Permutations of up to this many parts are keys ("any order"); longer names keep their
# sorted parts, which still ignores order but not the separators.
MAX_PERMUTED_PARTS = 4
# Readings of characters with several pronunciations (曾 ceng/zeng) multiply: keep a few.
MAX_READINGS = 4
# How much of a long text is searched for a name within it (typed_keys' `within`): these
# bound the keys one typed person makes (at most about 90 of each script; every key is a
# stored row, and a flood of reports must not multiply them).
WITHIN_HAN_CHARS = 32
WITHIN_WORDS = 24
ID_PREFIX = "#id:"
EMAIL_PREFIX = "#email:"
EXACT_KINDS = frozenset({"employee_id", "email"})


def fold(text: str) -> str:
    """Unicode NFKC, case folded, runs of whitespace collapsed to one space and trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def identifier(value: str) -> str:
    """An employee id or e-mail as compared: folded, with no whitespace inside."""
    return "".join(fold(value).split())


def id_hash(server_secret: bytes, employee_id: str) -> str:
    """Keyed hash of an employee id: the same for "E3", " e3 " and "Ｅ３"."""
    return crypto.keyed_hash(server_secret, "directory-employee-id", identifier(employee_id))


def staff_hash(server_secret: bytes, staff_id: str) -> str:
    """Keyed hash a case subject stores for a portal account the directory does not know.

    Its own label, so no directory employee id, however chosen, can hash to it."""
    return crypto.keyed_hash(server_secret, "staff-account", staff_id)


@functools.lru_cache(maxsize=4096)
def account_keys(name: str, email: str) -> tuple[tuple[str, str], ...]:
    """The keys of a portal account as a person: its display name (kind "name" or "pinyin"),
    its e-mail (exact) and, when it has two or more parts, the e-mail's local part as a name
    ("li.qiang@…" is Li Qiang). Remembered: a pure function of the two values."""
    keys: dict[str, str] = {}
    local = email.partition("@")[0]
    han, other = _parts(local)
    if len(han) + len(other) >= 2:
        keys.update(_name_keys(han, other))
    if name.strip():
        keys.update(name_keys(name))
    keys.update(_identifier_keys(email) if "@" in email else {})
    return tuple(sorted(keys.items()))


@functools.cache
def _traditional_to_simplified() -> dict[int, str]:
    """OpenCC's table of traditional characters with their simplified form (its first choice
    where it gives several: 於 as 于), one character for one, so positions in a text hold."""
    table: dict[int, str] = {}
    data = resources.files("opencc").joinpath("dictionary", "TSCharacters.txt")
    for line in data.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0]
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    return table


def simplified(text: str) -> str:
    """The text with every traditional Chinese character written simplified (張偉 → 张伟);
    everything else as it was, character for character."""
    return text.translate(_traditional_to_simplified())


def is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK ") and unicodedata.category(char) == "Lo"


def _without_marks(text: str) -> str:
    """Tone marks and accents dropped: "Zhāng Wěi" reads "zhang wei"."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    )


def _parts(name: str) -> tuple[list[str], list[str]]:
    """The Chinese and the other parts of a name, split at spaces, punctuation and changes
    of script ("周婷 Zhou Ting" gives ["周婷"] and ["zhou", "ting"])."""
    han: list[str] = []
    other: list[str] = []
    current, current_han = "", False
    for char in _without_marks(fold(name)) + " ":
        letter = unicodedata.category(char)[0] in "LN"
        if letter and current and is_han(char) == current_han:
            current += char
            continue
        if current:
            (han if current_han else other).append(current)
        current, current_han = (char, is_han(char)) if letter else ("", False)
    return han, other


def _orderless(parts: list[str]) -> set[str]:
    """Keys that ignore the order of the parts and the separators between them."""
    if not parts:
        return set()
    keys = {" ".join(sorted(parts))}
    if len(parts) <= MAX_PERMUTED_PARTS:
        keys |= {"".join(order) for order in itertools.permutations(parts)}
    else:
        keys.add("".join(parts))
    return keys


def _readings(han: str) -> list[tuple[str, ...]]:
    """The syllables of a Chinese name, tones dropped, for its first few readings: the usual
    reading of every character first, then each other reading of one character at a time,
    the family name's first (单 as "shan", 解 as "xie", 尉迟 as "yuchi"), before readings
    that change two characters at once."""
    readings = pinyin(han, style=Style.NORMAL, heteronym=True, errors="ignore")
    choices = itertools.product(*(range(len(syllables)) for syllables in readings))
    first = sorted(
        choices,
        key=lambda picks: (
            sum(pick > 0 for pick in picks),
            tuple(pick == 0 for pick in picks),
            picks,
        ),
    )[:MAX_READINGS]
    return [tuple(readings[n][pick] for n, pick in enumerate(picks)) for picks in first]


def _u_spellings(word: str) -> set[str]:
    """ü written v, u or yu (吕 as Lv, Lu or Lyu, the passport spelling)."""
    word = word.replace("ü", "v")
    return {word, word.replace("v", "u"), word.replace("v", "yu")}


def _pinyin(han: str) -> set[str]:
    """The Latin keys of a Chinese name: its readings, tones and separators dropped, with the
    family name first or last ("Zhang Wei", "Wei Zhang"; 欧阳娜 as "Na Ouyang" too). ü is
    written v, u or yu (吕 as Lv, Lu or Lyu, the passport spelling)."""
    keys: set[str] = set()
    for syllables in _readings(han):
        for cut in range(len(syllables)):
            keys |= _u_spellings("".join(syllables[cut:] + syllables[:cut]))
    return keys


# ü after l or n written "yu", as passports do (吕 Lyu, 女 Nyu, 略 Lyue).
_PASSPORT_U = re.compile(r"(?<=[ln])yu")


def _as_pinyin_v(words: list[str]) -> list[str]:
    """The words with the passport spelling of ü as pinyin's v: "lyu wei" → "lv wei", so a
    name typed as on a passport meets a directory keyed before Lyu was a key of its own."""
    return [_PASSPORT_U.sub("v", word) for word in words]


def name_keys(name: str) -> dict[str, str]:
    """Every key of a name, each with how it was made ("name" or "pinyin")."""
    return _name_keys(*_parts(name))


def _name_keys(han: list[str], other: list[str]) -> dict[str, str]:
    keys = dict.fromkeys(_pinyin("".join(han)) if han else set(), "pinyin")
    keys.update(dict.fromkeys(_orderless(_as_pinyin_v(other)), "name"))
    keys.update(dict.fromkeys(_orderless(han) | _orderless(other), "name"))
    # 張偉 typed for the directory's 张伟 (or the other way round) shares a name key.
    keys.update(dict.fromkeys(_orderless([simplified(part) for part in han]), "name"))
    return keys


def _within(han: list[str], other: list[str]) -> set[str]:
    """Keys of the names a longer text may hold: "王伟经理", "销售总监王伟" and "王伟（销售部）"
    hold 王伟; "Mr Wang Wei" and "Wang Wei (Sales Director)" hold Wang Wei.

    Chinese: every run of 2 to 4 characters of the Chinese text, spaces and punctuation
    removed (a Chinese name is 2 to 4 characters and is written without a separator
    before a title). Latin: every 2 or 3 neighbouring words, as two keys that every
    directory name of those words holds: the words sorted (any order) and run together as
    written (the pinyin of a Chinese name, family name first or last). A single word is
    never a key: "Mr Wang" is nobody, as "Wang" alone is.
    """
    keys: set[str] = set()
    written = "".join(han)[:WITHIN_HAN_CHARS]
    for joined in {written, simplified(written)}:
        for size in range(2, 5):
            keys |= {joined[start : start + size] for start in range(len(joined) - size + 1)}
    for words in {tuple(other[:WITHIN_WORDS]), tuple(_as_pinyin_v(other[:WITHIN_WORDS]))}:
        for size in (2, 3):
            for start in range(len(words) - size + 1):
                run = words[start : start + size]
                keys |= {" ".join(sorted(run)), "".join(run)}
    return keys


@dataclass(frozen=True)
class MentionForms:
    """What a scan of free text looks for to find one name (cases/access/mentions.py)."""

    forms: frozenset[str]  # as text_mentions makes them from the text
    words: frozenset[str]  # the Latin words the Latin forms are made of


@functools.lru_cache(maxsize=65536)
def mention_forms(name: str) -> MentionForms:
    """The forms of a name in free text: its Chinese characters as written (2 to 4 of them)
    and simplified (a text in either script is also read simplified, text_mentions);
    two or more Latin words, in any order, sorted or run together; the pinyin of the Chinese
    run together, family name first or last. A single Latin word is no form: "Zhang" or "Mr
    Zhang" is nobody. Remembered: a pure function of the name (a directory rebuild after one
    change recomputes only the names that changed)."""
    han, other = _parts(name)
    joined = "".join(han)
    forms: set[str] = set()
    words: set[str] = set()
    if 2 <= len(joined) <= 4:
        forms |= {joined, simplified(joined)}
        forms |= _pinyin(joined)
        for syllables in _readings(joined):
            for start, end in itertools.combinations(range(len(syllables) + 1), 2):
                words |= _u_spellings("".join(syllables[start:end]))
    if len(other) >= 2:
        forms |= _orderless(other) | _orderless(_as_pinyin_v(other))
        words |= set(other) | set(_as_pinyin_v(other))
    return MentionForms(frozenset(forms), frozenset(words))


# Latin words of a text as written: Latin letters (pinyin's tone marks and full-width forms
# included), digits and combining marks, so Chinese characters and punctuation end a word.
_LATIN_WORD = re.compile(
    "[A-Za-z0-9\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+"
)
# Chinese characters NFKC maps to others (the CJK compatibility ideographs).
_COMPATIBILITY_HAN = re.compile("[\uf900-\ufaff\U0002f800-\U0002fa1f]")
# An employee id as written in a text: letters and digits (full-width too), joined by - _ . /
_ALNUM = "0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_ID_TOKEN = re.compile(f"[{_ALNUM}]+(?:[-_./][{_ALNUM}]+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run-together name of one written word ("zhangwei") counts from this length, or when its
# case shows the parts ("ZhangWei", "LiKe"): "like" or "make" is a word, not Li Ke or Ma Ke.
RUN_TOGETHER_LETTERS = 6


def identifier_forms(employee_id: str, email: str) -> set[str]:
    """The forms of an employee id and an e-mail in free text (the keys entry_keys gives them).
    An id is looked for when it is at least 4 characters long or mixes letters and digits:
    "7" or "100" in a text is a number far more often than a colleague."""
    forms: set[str] = set()
    ident = identifier(employee_id)
    has_letter = any(c.isalpha() for c in ident)
    if len(ident) >= 4 or (has_letter and any(c.isdigit() for c in ident)):
        forms.add(ID_PREFIX + ident)
    if "@" in email:
        forms.add(EMAIL_PREFIX + identifier(email))
    return forms


def _run_together(written: str, word: str) -> bool:
    tail = written[1:]
    return len(word) >= RUN_TOGETHER_LETTERS or (tail != tail.lower() and tail != tail.upper())


def text_mentions(
    text: str,
    forms: Container[str],
    words: Container[str],
    first_han: re.Pattern[str] | None,
    ids: Collection[str] = (),
    emails: Collection[str] = (),
) -> dict[str, str]:
    """The forms (mention_forms) found in a free text, each by the words it was found as.

    One pass, proportional to the text, folded as names are (fold, _without_marks) piece by
    piece rather than as a whole (NFKC of a whole long text costs more than the scan).
    Chinese is looked up only where a character starts some form (`first_han`, a character
    class), 4, 3 then 2 characters from there, the longest found kept (张伟强 before 张伟);
    Chinese is read as written and, where it holds traditional characters, simplified too
    (a name found so is kept as written). Latin only over runs of words that are parts of
    some form (`words`), 2 or 3 neighbouring words at a time, as the words sorted and as run
    together, like the names within what was typed (_within); a single word that is a name
    run together counts when it is long enough or its case shows the parts (_run_together).
    `ids` and `emails` are the employee ids and e-mails looked for, folded (identifier_forms
    without their prefix): every id-like token and e-mail of the text is looked up among
    them, found as the identifier with its form (ID_PREFIX or EMAIL_PREFIX before it)."""
    found: dict[str, str] = {}
    if first_han is not None:
        han = _COMPATIBILITY_HAN.sub(lambda m: fold(m.group()), text)
        _han_mentions(han, han, forms, first_han, found)
        plain = simplified(han)
        if plain != han:
            _han_mentions(han, plain, forms, first_han, found)
    if ids or emails:
        _identifier_mentions(text, ids, emails, found)
    run: list[str] = []
    for written in _LATIN_WORD.findall(text):
        word = written.lower() if written.isascii() else _without_marks(fold(written))
        if word in forms and _run_together(written, word):
            found[word] = word
        if word in words:
            run.append(word)
            continue
        if len(run) > 1:
            _latin_mentions(run, forms, found)
        run = []
    if len(run) > 1:
        _latin_mentions(run, forms, found)
    return found


def _identifier_mentions(
    text: str, ids: Collection[str], emails: Collection[str], found: dict[str, str]
) -> None:
    """Id-like tokens of the text among `ids`, e-mails among `emails` (each looked for only
    when some is). The text is lowered once; only a token outside ASCII (full-width) is
    folded on its own."""
    lowered = text.lower()
    for wanted, pattern, prefix in ((ids, _ID_TOKEN, ID_PREFIX), (emails, _EMAIL, EMAIL_PREFIX)):
        if not wanted or (prefix == EMAIL_PREFIX and "@" not in lowered):
            continue
        for token in pattern.findall(lowered):
            ident = token if token.isascii() else identifier(token)
            if ident in wanted:
                found[ident] = prefix + ident


def _han_mentions(
    written: str,
    lookup: str,
    forms: Container[str],
    first_han: re.Pattern[str],
    found: dict[str, str],
) -> None:
    """Names in `lookup` (the text, or the text simplified: the same length, character for
    character), each kept as `written` has it, 4, 3 then 2 characters, the longest first."""
    for start in first_han.finditer(lookup):
        at = start.start()
        for size in (4, 3, 2):
            piece = lookup[at : at + size]
            if piece in forms:
                found[written[at : at + size]] = piece
                break


def _latin_mentions(run: list[str], forms: Container[str], found: dict[str, str]) -> None:
    for size in (2, 3):
        for start in range(len(run) - size + 1):
            piece = run[start : start + size]
            for key in (" ".join(sorted(piece)), "".join(piece)):
                if key in forms:
                    found[" ".join(piece)] = key
                    break


@dataclass(frozen=True)
class TypedKeys:
    """What a reporter or investigator typed about one person, as keys."""

    exact: dict[str, str] = field(default_factory=dict)  # key -> "employee_id" | "email"
    names: frozenset[str] = frozenset()
    # Keys of names within what was typed (a title or department around a name): they
    # count only while nothing matches what was typed as a whole (Matcher.candidates).
    within: frozenset[str] = frozenset()

    def all(self) -> set[str]:
        return set(self.exact) | set(self.names) | set(self.within)


def _identifier_keys(value: str) -> dict[str, str]:
    """An e-mail is recognised by its "@", whichever field it was typed in."""
    ident = identifier(value)
    if not ident:
        return {}
    if "@" in ident:
        return {EMAIL_PREFIX + ident: "email"}
    return {ID_PREFIX + ident: "employee_id"}


def typed_keys(name: str, employee_id: str = "", email: str = "") -> TypedKeys:
    exact = {**_identifier_keys(employee_id), **_identifier_keys(email)}
    folded = fold(name)
    # An id or e-mail typed into the name field counts as one too.
    if "@" in folded or (len(folded.split()) == 1 and any(c.isdigit() for c in folded)):
        exact.update(_identifier_keys(folded))
    han, other = _parts(name)
    names = _name_keys(han, other)
    within = _within(han, other) - set(names)
    return TypedKeys(exact, frozenset(names), frozenset(within))


def entry_keys(employee_id: str, email: str, name: str, aliases: str) -> dict[str, str]:
    """Every key of a directory entry: its id, e-mail, name, aliases and their pinyin."""
    keys: dict[str, str] = {}
    for alias in split_aliases(aliases):
        keys.update(dict.fromkeys(name_keys(alias), "alias"))
    keys.update(name_keys(name))
    keys.update(_identifier_keys(email) if "@" in email else {})
    keys[ID_PREFIX + identifier(employee_id)] = "employee_id"
    return keys


def split_aliases(aliases: str) -> list[str]:
    return [alias.strip() for alias in aliases.split("|") if alias.strip()]


__all__ = [
    "EXACT_KINDS",
    "MentionForms",
    "TypedKeys",
    "account_keys",
    "entry_keys",
    "fold",
    "id_hash",
    "identifier",
    "identifier_forms",
    "is_han",
    "mention_forms",
    "name_keys",
    "simplified",
    "split_aliases",
    "staff_hash",
    "text_mentions",
    "typed_keys",
]
