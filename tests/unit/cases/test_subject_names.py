"""The matcher's keys: each spelling the issue lists shares a key with the directory name."""

from __future__ import annotations

import pytest

from cases.access.names import entry_keys, id_hash, name_keys, typed_keys
from cases.staff.directory import parse_csv


def _matches(typed: str, directory_name: str, aliases: str = "") -> bool:
    keys = entry_keys("E3", "zhang.wei@corp.example", directory_name, aliases)
    return bool(typed_keys(typed).all() & set(keys))


@pytest.mark.parametrize(
    ("typed", "directory_name"),
    [
        ("zhang wei", "Zhang Wei"),
        ("ZHANG WEI", "Zhang Wei"),
        ("Zhang  Wei", "Zhang Wei"),
        ("Wei Zhang", "Zhang Wei"),
        ("Zhang-Wei", "Zhang Wei"),
        ("ＺＨＡＮＧ　ＷＥＩ", "Zhang Wei"),
        ("张 伟", "张伟"),
        ("Zhang Wei", "张伟"),
        ("Zhāng Wěi", "张伟"),
        ("ZhangWei", "张伟"),
        ("Wei ZHANG", "张伟"),
        ("周婷", "周婷 Zhou Ting"),
        ("張偉", "张伟"),
        ("陈静", "陳靜"),
        ("Na Ouyang", "欧阳娜"),
        ("Zeng Wei", "曾伟"),
        ("Lyu Wei", "吕伟"),
        ("LV WEI", "吕伟"),
        ("Wei Lu", "吕伟"),
        ("吕伟", "Lyu Wei"),
        # Names that are also words: read as a family name, not as the word (解放 "jie
        # fang" the word; 解 the family name is "Xie"; 单于 the title is "chan yu").
        ("Xie Fang", "解放"),
        ("Shan Yu", "单于"),
        ("Wei Chigong", "尉迟恭"),
        ("Yuchi Gong", "尉迟恭"),
    ],
)
def test_each_spelling_shares_a_key_with_the_directory_name(
    typed: str, directory_name: str
) -> None:
    """Case, spaces, punctuation, order, width, tone marks and pinyin do not dodge a match."""
    assert _matches(typed, directory_name)


def test_a_different_person_or_a_part_of_the_name_does_not_match() -> None:
    """No partial matches: "Zhang" alone or "Li Wei" are not Zhang Wei."""
    assert not _matches("Zhang", "Zhang Wei")
    assert not _matches("Li Wei", "张伟")


@pytest.mark.parametrize(
    "typed",
    [
        "张伟经理",
        "销售总监张伟",
        "銷售總監張偉",
        "张伟（销售部）",
        "华东区 销售部 张 伟",
        "Sales director Zhang Wei",
        "Mr. Zhang Wei",
        "Zhang Wei (Sales)",
        "Wei Zhang, East region",
    ],
)
def test_a_name_with_a_title_or_department_holds_the_name_within_it(typed: str) -> None:
    """The name's key is among the keys of names within what was typed, not the whole."""
    keys = typed_keys(typed)
    directory = set(entry_keys("E3", "", "张伟", "")) | set(entry_keys("E4", "", "Zhang Wei", ""))
    assert keys.within & directory
    assert not keys.names & directory


def test_the_passport_spelling_of_u_umlaut_meets_keys_made_before_it() -> None:
    """ "Lyu Wei" (吕伟 as a passport writes it) carries pinyin's "lvwei", the key a directory
    imported before "lyu" was a key already holds, so no re-import is needed."""
    assert {"lvwei", "weilv"} <= typed_keys("Lyu Wei").all()
    assert "lvwei" in typed_keys("Mr Lyu Wei (Sales)").within
    assert "nvwa" in typed_keys("Nyu Wa").all()


def test_one_word_with_a_title_is_nobody() -> None:
    """ "Mr Zhang" or "张经理" name no one: a family name alone is not a person."""
    for typed in ("Mr Zhang", "Manager Zhang", "张经理"):
        assert not typed_keys(typed).all() & set(entry_keys("E3", "", "Zhang Wei", ""))


def test_an_alias_matches_like_the_name() -> None:
    """Aliases from the directory's aliases column are keys of their own, pinyin included."""
    assert _matches("tom zhang", "张伟", "Tom Zhang|小张")
    assert _matches("xiao zhang", "张伟", "Tom Zhang|小张")


def test_ids_are_trimmed_and_case_insensitive_and_an_at_sign_means_e_mail() -> None:
    """ " e3 " is E3; an e-mail in the id field is an e-mail; both are exact keys."""
    directory = entry_keys("E3", "zhang.wei@corp.example", "Zhang Wei", "")

    by_id = typed_keys("?", employee_id=" e3 ").exact
    by_mail = typed_keys("?", employee_id="Zhang.Wei@CORP.example").exact

    assert set(by_id) <= set(directory)
    assert set(by_mail) <= set(directory)
    assert list(by_mail.values()) == ["email"]
    assert id_hash(b"k" * 32, " e3 ") == id_hash(b"k" * 32, "E3")


def test_chinese_without_and_with_spaces_share_a_key() -> None:
    """ "张 伟" and "张伟" both carry the key 张伟."""
    assert "张伟" in name_keys("张 伟")
    assert "张伟" in name_keys("张伟")


def test_the_csv_aliases_column_is_optional() -> None:
    """Files with or without the aliases column parse; aliases land on the row."""
    plain = parse_csv("employee_id,name,email,department,manager_id\nE1,张伟,,Sales,\n")
    with_aliases = parse_csv(
        "employee_id,name,email,department,manager_id,aliases\nE1,张伟,,Sales,,Tom Zhang|小张\n"
    )

    assert plain[0].aliases == ""
    assert with_aliases[0].aliases == "Tom Zhang|小张"
