"""The text scan's forms: a name written in free text, in any of the spellings the matcher
forgives, is found; a surname alone or a name of one word is not."""

from __future__ import annotations

import re

import pytest

from cases.access.names import identifier_forms, is_han, mention_forms, simplified, text_mentions


def _found(text: str, *names: str, people: tuple[tuple[str, str], ...] = ()) -> set[str]:
    forms: set[str] = set()
    for employee_id, email in people:
        forms |= identifier_forms(employee_id, email)
    ids = {form.partition(":")[2] for form in forms if form.startswith("#id:")}
    emails = {form.partition(":")[2] for form in forms if form.startswith("#email:")}
    words: set[str] = set()
    for name in names:
        found = mention_forms(name)
        forms |= found.forms
        words |= found.words
    starts = "".join(sorted({form[0] for form in forms if is_han(form[0])}))
    first_han = re.compile(f"[{starts}]") if starts else None
    return set(text_mentions(text, forms, words, first_han, ids, emails))


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
        # Run together as one word: long enough, or its case shows the parts.
        ("zhangwei did it", "张伟"),
        ("ask WangFang about it", "王芳"),
        ("LiKe did it", "李可"),
        ("davidwang signed", "David Wang"),
        # Traditional characters for a simplified name, and the other way round.
        ("張偉一直在幫他隱瞞", "张伟"),
        ("陈静一直在帮他", "陳靜"),
    ],
)
def test_each_spelling_in_a_text_is_found(text: str, name: str) -> None:
    """The spellings of the "people involved" fields, written inside a sentence."""
    assert _found(text, name)


@pytest.mark.parametrize(
    "text",
    ["Mr. Zhang said so", "Zhang did it", "张经理说的", "David did it", "I like it, LIKE it"],
)
def test_a_surname_or_a_single_word_is_nobody(text: str) -> None:
    """A single Latin word that is not a whole name run together never matches: "Zhang" is
    not 张伟, nor is "David" David Wang; a short word in one case ("like") is not 李可."""
    assert _found(text, "张伟", "David Wang", "David", "李可") == set()


def test_the_longest_chinese_name_at_a_place_is_kept() -> None:
    """张伟强 in the text is 张伟强 when both are looked for, not also 张伟."""
    assert _found("是张伟强干的", "张伟", "张伟强") == {"张伟强"}


def test_a_traditional_name_is_found_as_written() -> None:
    """The find keeps the characters the reporter wrote; simplifying keeps every position."""
    assert _found("是張偉和陳靜幹的", "张伟", "陈静") == {"張偉", "陳靜"}
    assert simplified("是張偉和陳靜幹的 ok") == "是张伟和陈静干的 ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("工号E1234的人拿了回扣", {"e1234"}),
        ("employee ｅ１２３４ again", {"e1234"}),
        ("ask 10023 about it", {"10023"}),
        ("write to LI.QIANG@Corp.Example now", {"li.qiang@corp.example"}),
    ],
)
def test_an_employee_id_or_e_mail_in_a_text_is_found(text: str, expected: set[str]) -> None:
    """Ids and e-mails of the people looked for, as written in a text, in any case or width."""
    people = (("E1234", ""), ("10023", ""), ("", "li.qiang@corp.example"))
    assert _found(text, people=people) == expected


def test_a_short_number_or_another_id_is_nobody() -> None:
    """A number of fewer than 4 digits is not looked for as an id; other ids do not match."""
    assert identifier_forms("100", "") == set()
    assert identifier_forms("E12", "") == {"#id:e12"}
    people = (("100", ""), ("E1234", ""), ("", "li.qiang@corp.example"))
    assert _found("100 units to E12345 and qiang@corp.example", people=people) == set()
