"""The text scan's forms: a name written in free text, in any of the spellings the matcher
forgives, is found; a surname alone or a name of one word is not."""

from __future__ import annotations

import re

import pytest

from cases.access.names import is_han, mention_forms, text_mentions


def _found(text: str, *names: str) -> set[str]:
    forms: set[str] = set()
    words: set[str] = set()
    for name in names:
        found = mention_forms(name)
        forms |= found.forms
        words |= found.words
    starts = "".join(sorted({form[0] for form in forms if is_han(form[0])}))
    first_han = re.compile(f"[{starts}]") if starts else None
    return set(text_mentions(text, forms, words, first_han))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("销售总监张伟让我把订单转给别人", "张伟"),
        ("Zhang Wei took a kickback", "张伟"),
        ("and then wei zhang asked me", "张伟"),
        ("ZHANG wei signed it", "张伟"),
        ("Zhāng Wěi signed it", "张伟"),
        ("Ｚｈａｎｇ Ｗｅｉ signed it", "张伟"),
        ("Mr. Zhang Wei (Sales Director) said", "Zhang Wei"),
        ("the deal of Wang Xiaoming, again", "王小明"),
        ("Na Ouyang approved it", "欧阳娜"),
        ("Lyu Wei approved it", "吕伟"),
        ("Lv Wei approved it", "吕伟"),
        ("li.qiang@corp.example told me", "Li Qiang"),
        ("问过David Wang之后", "David Wang"),
    ],
)
def test_each_spelling_in_a_text_is_found(text: str, name: str) -> None:
    """The spellings of the "people involved" fields, written inside a sentence."""
    assert _found(text, name)


@pytest.mark.parametrize(
    "text",
    ["Mr. Zhang said so", "Zhang did it", "张经理说的", "zhangwei did it", "David did it"],
)
def test_a_surname_or_a_single_word_is_nobody(text: str) -> None:
    """A single Latin word never matches: "Zhang" is not 张伟, nor is "David" David Wang."""
    assert _found(text, "张伟", "David Wang", "David") == set()


def test_the_longest_chinese_name_at_a_place_is_kept() -> None:
    """张伟强 in the text is 张伟强 when both are looked for, not also 张伟."""
    assert _found("是张伟强干的", "张伟", "张伟强") == {"张伟强"}
