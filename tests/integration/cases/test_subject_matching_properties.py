"""Property: any spelling variant of a directory name (case, spaces, punctuation, order, tone
marks, Chinese spacing, pinyin), also with a title, honorific or department before or after
it, excludes that person and their whole management chain."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, World, build_world

from cases.access.policy import may_see
from cases.clock import FixedClock
from cases.reports.intake import SubjectInput
from cases.reports.models import KeyWrap
from cases.staff.directory import DirectoryService, Row

LATIN = ["Anna Schmidt", "Wang Xiaoming", "Mary Ann Lee", "José Álvarez"]
HAN = ["张伟", "王小明", "欧阳娜", "李娜"]
SEPARATORS = st.sampled_from([" ", "  ", "-", ".", ", ", "\u3000", "\t", "_", "·"])


def _chain(name: str) -> list[Row]:
    return [
        Row("C1", "Chief", "ceo@corp.example", "Board", ""),
        Row("D1", "Director", "director@corp.example", "Sales", "C1"),
        Row("P1", name, "person@corp.example", "Sales", "D1"),
    ]


def _world(db: Session, name: str) -> World:
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(_chain(name))
    for email, employee_id in (
        ("ceo@corp.example", "C1"),
        ("director@corp.example", "D1"),
        ("person@corp.example", "P1"),
    ):
        world.staff(email, "investigator", employee_id=employee_id)
    world.staff("neutral@corp.example", "investigator")
    return world


@st.composite
def latin_variant(draw: st.DrawFn, name: str) -> str:
    """Case flipped per letter, parts in any order, any separators, padding, width forms."""
    parts = draw(st.permutations(name.split()))
    spelled = []
    for part in parts:
        flips = draw(st.lists(st.booleans(), min_size=len(part), max_size=len(part)))
        spelled.append(
            "".join(c.upper() if f else c.lower() for c, f in zip(part, flips, strict=True))
        )
    text = spelled[0]
    for part in spelled[1:]:
        text += draw(SEPARATORS) + part
    if draw(st.booleans()):
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    return draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " "]))


@st.composite
def han_variant(draw: st.DrawFn, name: str) -> str:
    """The characters with or without spaces, or their pinyin with or without tone marks,
    family name first or last, in any case, with any separators."""
    if draw(st.booleans()):
        return draw(SEPARATORS).join(name) if draw(st.booleans()) else name
    style = draw(st.sampled_from([Style.NORMAL, Style.TONE]))
    syllables = lazy_pinyin(name, style=style)
    cut = 2 if name.startswith("欧阳") else 1
    family = "".join(syllables[:cut])
    given_name = draw(st.sampled_from(["", " "])).join(syllables[cut:])
    parts = [given_name, family] if draw(st.booleans()) else [family, given_name]
    text = draw(SEPARATORS).join(parts)
    return text.upper() if draw(st.booleans()) else text.title()


# What people write around a name: titles, honorifics, departments, regions.
WORDS_ZH = ["经理", "总监", "销售总监", "销售部", "主管", "先生", "女士", "华东区", "的", "副总"]
WORDS_EN = ["Mr", "Ms.", "Sales Director", "manager", "from Sales", "East region", "(VP)"]


@st.composite
def with_words(draw: st.DrawFn, name: str, variant: st.SearchStrategy[str]) -> str:
    """A spelling of the name with words before and/or after it, in brackets or not. Chinese
    words may touch Chinese characters (张伟经理); Latin words are set apart, as written."""
    typed = draw(variant).strip()
    words = draw(st.lists(st.sampled_from(WORDS_ZH + WORDS_EN), min_size=1, max_size=3))
    for word in words:
        if draw(st.booleans()):
            word = draw(st.sampled_from(["({})", "（{}）", "[{}]"])).format(word)
        before = draw(st.booleans())
        touching = (word[-1], typed[0]) if before else (typed[-1], word[0])
        # Chinese touches Chinese ("张伟经理") and brackets touch anything ("张伟（销售部）"),
        # but Latin never touches a letter: not "Mrwang", nor "经理wang".
        joins = all(_is_han(c) or not c.isalnum() for c in touching)
        gaps = ["", " ", "、", "，"] if joins else [" ", ", "]
        gap = draw(st.sampled_from(gaps))
        typed = f"{word}{gap}{typed}" if before else f"{typed}{gap}{word}"
    return typed


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _check_excluded(db: Session, world: World, typed: str) -> None:
    filed = world.file(subjects=[SubjectInput(name=typed)])
    holders = set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == filed.case.id)))
    for email in ("person@corp.example", "director@corp.example", "ceo@corp.example"):
        account = world.people[email].account
        assert not may_see(db, account, filed.case), (typed, email)
        assert account.id not in holders, (typed, email)
    assert world.people["neutral@corp.example"].account.id in holders


@pytest.mark.slow
@pytest.mark.parametrize("name", LATIN)
def test_latin_spelling_variants_exclude_the_person_and_chain(
    db_session: Session, name: str
) -> None:
    """Any case, order, separator, width or accent form of a Latin name excludes the chain."""
    world = _world(db_session, name)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(typed=latin_variant(name))
    def check(typed: str) -> None:
        _check_excluded(db_session, world, typed)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("name", HAN)
def test_chinese_spelling_and_pinyin_variants_exclude_the_person_and_chain(
    db_session: Session, name: str
) -> None:
    """张伟 typed as "张 伟", "Zhang Wei", "WEI ZHANG", "Zhāng-Wěi"… excludes the chain."""
    world = _world(db_session, name)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(typed=han_variant(name))
    def check(typed: str) -> None:
        _check_excluded(db_session, world, typed)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("name", LATIN + HAN)
def test_a_name_among_titles_and_departments_excludes_the_person_and_chain(
    db_session: Session, name: str
) -> None:
    """ "销售总监张伟", "张伟（销售部）经理", "Mr Zhang Wei (VP)": the person named inside is a
    candidate, so they and everyone above them are kept away."""
    world = _world(db_session, name)
    variant = han_variant(name) if name in HAN else latin_variant(name)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(typed=with_words(name, variant))
    def check(typed: str) -> None:
        _check_excluded(db_session, world, typed)

    check()
