"""Property: any spelling variant of a directory name (case, spaces, punctuation, order, tone
marks, Chinese spacing, pinyin) excludes that person and their whole management chain."""

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
