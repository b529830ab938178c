"""The text scan at filing: µs per report, with a 5,000-person directory in the scan set.

Builds a throwaway SQLite database (migrated), imports a directory of PEOPLE Chinese names
(a fifth with an English alias) all below one investigator, so every one of them is looked
for: the worst case, where the scan set is the whole directory. Then times, per report, what
filing adds (cases/access/mentions.py): reading the people_version token (one statement),
finding the names in the text (in memory), and the first build of the scan set once.
Texts are made of common Chinese characters (surnames among them, so the scan stops often)
and English words, 300 and 5,000 characters, naming nobody and naming one person.
Run: flock /tmp/bench.lock python -m bench.textscan.run [--people N] [--runs N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import crypto
from cases.access.mentions import _build, scan_set
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.directory import DirectoryService, Row
from cases.staff.service import StaffService
from portal.migrations import upgrade

SECRET = b"b" * 32
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆晨阳"
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器"
    "压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安"
    "场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
    "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
    "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属"
    "圆包火住调满县局照参红细引听该铁价严"
)
# English words, pinyin syllables among them (so the scan meets runs of name words).
ENGLISH = (
    "the order went to a rival and the sales team said it was approved by the director "
    "last week when the customer asked for a discount we saw the invoice and the payment "
    "an wang li ma he so she long"
)
WORDS = ENGLISH.split(" ")


def _names(people: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < people:
        size = rng.choice((1, 2, 2))
        names.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(size)))
    return sorted(names)


def _text(chars: int, rng: random.Random, name: str = "") -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < chars:
        if rng.random() < 0.5:
            parts.append("".join(rng.choice(COMMON) for _ in range(rng.randint(4, 20))) + "，")
        else:
            parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) + ". ")
    text = "".join(parts)[:chars]
    if name:
        middle = len(text) // 2
        text = text[:middle] + "销售总监" + name + "说" + text[middle + len(name) + 5 :]
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    names = _names(args.people, rng)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine, server_secret=SECRET)
        factory = session_factory(engine, SECRET)
        with unit_of_work(factory) as db:
            rows = [Row("B0", "Boss", "boss@corp.example", "Board", "")]
            rows += [
                Row(f"E{n}", name, "", "Sales", "B0", "David Wang" if n % 5 == 0 else "")
                for n, name in enumerate(names)
            ]
            DirectoryService(db, SystemClock(), SECRET).import_rows(rows)
            StaffService(
                db, SystemClock(), server_secret=SECRET, profile=crypto.PROFILES["test"]
            ).create(
                "boss@corp.example",
                "correct horse battery staple 42",
                ["investigator"],
                employee_id="B0",
            )
        with unit_of_work(factory) as db:
            started = time.perf_counter()
            built = _build(db)
            build_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            _build(db)  # as after a change: the names' forms are remembered (mention_forms)
            rebuild_ms = (time.perf_counter() - started) * 1000
            scan_set(db)  # kept for the token
            token = []
            for _ in range(args.runs):
                started = time.perf_counter()
                scan_set(db)
                token.append(time.perf_counter() - started)
        engine.dispose()
    print(f"people in the scan set: {args.people}, forms: {len(built.people)}, runs: {args.runs}")
    print(f"scan set build, first in a process: {build_ms:.0f} ms")
    print(f"scan set rebuild after a change (forms remembered): {rebuild_ms:.0f} ms")
    print(f"token read (every filing, one statement): {_us(token)}")
    for chars in (300, 5000):
        for named in ("", names[len(names) // 2]):
            text = _text(chars, rng, named)
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                found = built.find(text)
                times.append(time.perf_counter() - started)
            label = f"naming {named}" if named else "naming nobody"
            print(f"find, {chars} characters, {label}: {_us(times)} ({len(found)} found)")


def _us(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(times) * 1e6:.0f} µs, p99 {p99 * 1e6:.0f} µs"


if __name__ == "__main__":
    main()
