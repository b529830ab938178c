"""Differencing across answers: no set of statistics answers gives a hidden small cell back.

The insider review of 2026-11-30: with two channels, "all channels, March: 20" and "channel A,
March: 17" gave channel B's March (3) by subtraction, though B's own answer hid it. These tests
seed that data set, fetch every answer the API accepts for it, and check the published figures
against an oracle that knows nothing of the suppression code: an integer program over the
unknown counts (docs/statistics.md, "Differencing", the criterion).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import product
from typing import Any

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.staff_world import build_world
from support.statistics import seed_cases

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Category, Channel
from cases.reports.models import Case
from cases.rewards.models import Reward
from cases.staff.models import StaffAccount

API = "/api/v1/statistics"
TODAY = date(2026, 3, 2)
YEARS = (2024, 2025)
OUTCOMES = (
    "substantiated",
    "partially_substantiated",
    "unsubstantiated",
    "not_actionable",
    "none",
)
KINDS = ("report", "retaliation")
PARTLY = "partially_substantiated"
Tie = tuple[dict[int, float], float, float]  # coefficients, lowest, highest
AGES = (("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), ("91-365", 91, 365), ("366+", 366, None))


@dataclass(frozen=True)
class Batch:
    """Cases seeded alike: where (channel letter, category), when, and their clear columns."""

    category: str  # "a1", "a2", "b1", "b2"
    day: date
    n: int
    outcome: str | None = "substantiated"
    kind: str = "report"

    @property
    def open(self) -> bool:
        return self.outcome is None


# Channel A ("a1", "a2") and channel B ("b1", "b2"). March 2025: A 17, B 3, all 20.
DATA = (
    Batch("a1", date(2024, 5, 6), 10),
    Batch("b1", date(2024, 5, 7), 6, "unsubstantiated"),
    Batch("b2", date(2024, 10, 8), 7),
    Batch("a1", date(2025, 1, 6), 8, "unsubstantiated"),
    Batch("b1", date(2025, 1, 7), 6),
    Batch("a1", date(2025, 3, 3), 12),
    Batch("a2", date(2025, 3, 4), 5),
    Batch("b1", date(2025, 3, 5), 3, "not_actionable"),
    Batch("a1", date(2025, 6, 2), 10),
    Batch("b1", date(2025, 6, 3), 4),
    Batch("b2", date(2025, 6, 4), 3, "unsubstantiated", "retaliation"),
    Batch("a2", date(2025, 9, 1), 9, None),
    Batch("b2", date(2025, 9, 2), 8, None),
)

# The rates review (2026-11-30): channel A's 3 partially substantiated cases are hidden with
# their partner (not actionable), yet 23 of A's 33 substantiated in part or whole (70%), set
# against the shown 20 substantiated, 10 unsubstantiated and the total, left only 3; the
# whole data set's 58% did the same for the top row.
RATES = (
    Batch("a1", date(2025, 3, 3), 20),
    Batch("a1", date(2025, 3, 4), 10, "unsubstantiated"),
    Batch("a2", date(2025, 6, 2), 3, "partially_substantiated"),
    Batch("b1", date(2025, 3, 5), 10),
    Batch("b1", date(2025, 6, 3), 8, "unsubstantiated"),
    Batch("b1", date(2025, 6, 4), 6, "not_actionable"),
    Batch("b2", date(2025, 9, 2), 9, None),
)

# The count of durations to close is the concluded cases: the total minus it gave the 3 open
# cases that the outcomes table hides as "none".
CLOSING = (
    Batch("a1", date(2025, 3, 3), 20),
    Batch("a1", date(2025, 3, 4), 10, "unsubstantiated"),
    Batch("b1", date(2025, 3, 5), 10),
    Batch("b1", date(2025, 6, 3), 8, "unsubstantiated"),
    Batch("b2", date(2025, 9, 2), 3, None),
)


@dataclass
class Seeded:
    client: Any
    headers: dict[str, str]
    channels: dict[str, str]  # letter -> id
    categories: dict[str, str]  # "a1" -> id
    channel_of: dict[str, str] = field(default_factory=dict)  # category id -> channel id
    data: tuple[Batch, ...] = DATA


def _token(client: Any, made: Any, clock: FixedClock) -> dict[str, str]:
    person = made.people["analyst"]
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def seeded(client: Any, app: Any, app_db: sessionmaker[Any], request: Any) -> Seeded:
    """Two channels with two categories each, the review's March, and a year before it (or
    the data set a test names: `indirect` parametrization)."""
    data: tuple[Batch, ...] = getattr(request, "param", DATA)
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        made.people["analyst"] = made.staff("analyst@example.com", "analyst")
        channels: dict[str, Channel] = {}
        categories: dict[str, Category] = {}
        for letter in "ab":
            channel = Channel(slug=f"diff-{letter}", name_en=f"Channel {letter}", name_zh=letter)
            db.add(channel)
            db.flush()
            channels[letter] = channel
            for number in "12":
                category = Category(
                    channel_id=channel.id,
                    slug=f"{letter}{number}",
                    name_en=f"{letter}{number}",
                    name_zh=f"{letter}{number}",
                    position=int(number),
                )
                db.add(category)
                categories[f"{letter}{number}"] = category
            db.flush()
            db.refresh(channel)
        for batch in data:
            category = categories[batch.category]
            seed_cases(
                db,
                channels[batch.category[0]],
                batch.n,
                category=category.id,
                submitted_on=batch.day,
                outcome=batch.outcome,
                kind=batch.kind,
                status="investigating" if batch.open else "closed",
                concluded_after=None if batch.open else 40,
            )
        every = {c.id: c.channel_id for c in db.query(Category)}
        result = Seeded(
            client,
            {},
            {k: c.id for k, c in channels.items()},
            {k: c.id for k, c in categories.items()},
            every,
            data,
        )
    result.headers = _token(client, made, clock)
    return result


# --- the unknowns and what each published figure says about them ------------------------


def _months() -> list[str]:
    return [f"{y}-{m:02d}" for y in YEARS for m in range(1, 13)]


def _age(day: date) -> str:
    """The age bucket of an open case on the last day counted (the end of last month)."""
    age = (TODAY.replace(day=1) - timedelta(days=1) - day).days
    return next(k for k, first, last in AGES if age >= first and (last is None or age <= last))


class Unknowns:
    """Counts per (year, category) for every table: what an attacker solves for.

    Each table is its own family of unknowns, tied to the others only by the case count of
    each (year, category): a case's month, outcome, kind and age are not linked to each
    other here (docs/statistics.md says which links stay outside this model).
    """

    def __init__(self, categories: list[str]) -> None:
        self.categories = categories
        self.index: dict[tuple[str, ...], int] = {}
        for year, cat in product(YEARS, categories):
            self._new("n", str(year), cat)
            self._new("open", str(year), cat)
            for d in OUTCOMES:
                self._new("outcome", str(year), cat, d)
            for d in KINDS:
                self._new("kind", str(year), cat, d)
            for d, _first, _last in AGES:
                self._new("age", str(year), cat, d)
        for month, cat in product(_months(), categories):
            self._new("month", month[:4], cat, month)

    def _new(self, *key: str) -> None:
        self.index[key] = len(self.index)

    def family(self, name: str, year: int, cat: str) -> list[int]:
        return [i for k, i in self.index.items() if k[:3] == (name, str(year), cat)]

    def ties(self) -> Iterator[Tie]:
        """Each family of a (year, category) adds up to its case count (ages: to its open ones,
        which are at most all of them): (coefficients, lowest, highest) of each tie."""
        for year, cat in product(YEARS, self.categories):
            n = self.index[("n", str(year), cat)]
            opened = self.index[("open", str(year), cat)]
            for name in ("outcome", "kind", "month"):
                yield {n: -1, **dict.fromkeys(self.family(name, year, cat), 1)}, 0, 0
            yield {opened: -1, **dict.fromkeys(self.family("age", year, cat), 1)}, 0, 0
            yield {opened: 1, n: -1}, -np.inf, 0

    def truth(self, seeded: Seeded) -> np.ndarray:
        value = np.zeros(len(self.index))
        for batch in seeded.data:
            cat, year = seeded.categories[batch.category], str(batch.day.year)
            month = batch.day.strftime("%Y-%m")
            for key in (
                ("n", year, cat),
                ("outcome", year, cat, batch.outcome or "none"),
                ("kind", year, cat, batch.kind),
                ("month", year, cat, month),
            ):
                value[self.index[key]] += batch.n
            if batch.open:
                value[self.index[("open", year, cat)]] += batch.n
                value[self.index[("age", year, cat, _age(batch.day))]] += batch.n
        return value


@dataclass(frozen=True)
class Published:
    where: str  # which answer and which cell, for the failure message
    terms: tuple[int, ...]  # the unknowns it sums
    value: int | None  # None: suppressed


def _published(
    seeded: Seeded, unknowns: Unknowns, said: list[Tie] | None = None
) -> Iterator[Published]:
    """Every figure of every answer the API gives for this data set (422s give none).

    `said` gathers what the answers' rates and durations say of the outcome cells (they are
    not sums, so not yielded): a substantiated percent r is 100 (S + P) within r ± 0.5 of
    the concluded cases; the count of durations to close is the concluded cases; a median
    shown needs 5 of them, a 90th percentile 10 (docs/statistics.md).
    """
    years: list[dict[str, str]] = [{}, {"year": "2024"}, {"year": "2025"}]
    years.append({"from": "2024", "to": "2025"})
    channels = ["", *seeded.channel_of.values()]
    categories = ["", *seeded.channel_of]
    answered = 0
    for when, channel, category in product(years, sorted(set(channels)), categories):
        if channel and category and seeded.channel_of[category] != channel:
            continue  # a category of another channel: an empty base, always refused
        params = {**when, "channel": channel, "category": category}
        answer = seeded.client.get(API, params=params, headers=seeded.headers)
        if answer.status_code == 422:
            continue
        assert answer.status_code == 200, answer.text
        answered += 1
        body = answer.json()
        first = int(when.get("year", when.get("from", YEARS[0])))
        last = int(when.get("year", when.get("to", YEARS[-1])))
        span = [y for y in YEARS if first <= y <= last]
        cats = [
            c
            for c in unknowns.categories
            if (not channel or seeded.channel_of[c] == channel) and category in ("", c)
        ]

        def cell(
            name: str,
            value: dict[str, Any],
            *key: str,
            only: list[str] = cats,
            span: list[int] = span,
            where: str = str(params),
        ) -> Published:
            terms = [
                unknowns.index[(name, str(year), cat, *key)]
                for year, cat in product(span, only)
                if (name, str(year), cat, *key) in unknowns.index
            ]
            return Published(f"{where} {name} {key}", tuple(terms), value["value"])

        yield cell("n", body["total"])
        for month in body["per_month"]:
            key = month["month"]
            terms = tuple(unknowns.index[("month", key[:4], c, key)] for c in cats)
            yield Published(f"{params} month {key}", terms, month["cases"]["value"])
        for row in body["per_outcome"]:
            yield cell("outcome", row["cases"], row["key"])
        for row in body["per_kind"]:
            yield cell("kind", row["cases"], row["key"])
        for row in body["open_by_age"]:
            yield cell("age", row["cases"], row["key"])
        for row in body["per_category"]:
            yield cell("n", row["cases"], only=[c for c in cats if c == row["key"]])
        for row in body["per_channel"]:
            mine = [c for c in cats if seeded.channel_of[c] == row["key"]]
            yield cell("n", row["cases"], only=mine)
        if said is not None:
            said.extend(_rates_and_durations(unknowns, body, span, cats))
    # The oracle saw the answers, not a run of refusals (the review's data set gives 20 or more;
    # the smaller ones of the rates review at least 10).
    assert answered >= (20 if seeded.data is DATA else 10)


def _rates_and_durations(
    unknowns: Unknowns, body: dict[str, Any], span: list[int], cats: list[str]
) -> Iterator[Tie]:
    def terms(*outcomes: str) -> list[int]:
        return [
            unknowns.index[("outcome", str(year), cat, outcome)]
            for year, cat in product(span, cats)
            for outcome in outcomes
        ]

    upheld = terms("substantiated", "partially_substantiated")
    concluded = terms(*(o for o in OUTCOMES if o != "none"))

    def weighed(share: float) -> dict[int, float]:
        found = dict.fromkeys(upheld + concluded, 0.0)
        for i in upheld:
            found[i] += 100
        for i in concluded:
            found[i] -= share
        return found

    percent = body["substantiated_percent"]["value"]
    if percent is not None:
        yield weighed(percent - 0.5), 0, np.inf
        yield weighed(percent + 0.5), -np.inf, 0
    durations = body["time_to_close"]
    if durations["cases"]["value"] is not None:
        value = durations["cases"]["value"]
        yield dict.fromkeys(concluded, 1.0), value, value
    if durations["median_days"]["value"] is not None:
        yield dict.fromkeys(concluded, 1.0), 5, np.inf
    if durations["p90_days"]["value"] is not None:
        yield dict.fromkeys(concluded, 1.0), 10, np.inf


def _bounds(
    unknowns: Unknowns,
    shown: list[Published],
    ties: list[Tie],
) -> Any:
    """A function giving (min, max) of a sum of unknowns under every shown figure."""
    size = len(unknowns.index)
    rows, lowest, highest = [], [], []
    for terms, value in {(f.terms, f.value) for f in shown}:
        row = np.zeros(size)
        row[list(terms)] = 1
        rows.append(row)
        lowest.append(value)
        highest.append(value)
    for coefficients, low, high in ties:
        row = np.zeros(size)
        for i, c in coefficients.items():
            row[i] = c
        rows.append(row)
        lowest.append(low)
        highest.append(high)
    constraint = LinearConstraint(np.array(rows), np.array(lowest), np.array(highest))
    bounds = Bounds(np.zeros(size), np.full(size, 500.0))
    integral = np.ones(size)

    def solve(terms: tuple[int, ...], sign: int) -> int:
        objective = np.zeros(size)
        objective[list(terms)] = sign
        found = milp(objective, constraints=constraint, bounds=bounds, integrality=integral)
        assert found.success, found.message
        return round(sign * found.fun)

    return lambda terms: (solve(terms, 1), solve(terms, -1))


def _open_cells(seeded: Seeded) -> list[tuple[Published, int, int, int]]:
    """Each hidden cell holding 1 to 4 cases, with its true value and its feasible range."""
    unknowns = Unknowns(sorted(seeded.channel_of))
    truth = unknowns.truth(seeded)
    said: list[Tie] = []
    figures = list(_published(seeded, unknowns, said))
    shown = [f for f in figures if f.value is not None]
    for figure in shown:  # the oracle's model matches the answers
        assert truth[list(figure.terms)].sum() == figure.value, figure.where
    for coefficients, low, high in said:  # and so do the rates and durations
        value = sum(c * truth[i] for i, c in coefficients.items())
        assert low - 1e-9 <= value <= high + 1e-9, coefficients
    bounds = _bounds(unknowns, shown, [*unknowns.ties(), *said])
    hidden: dict[tuple[int, ...], Published] = {}
    for figure in figures:
        if figure.value is None and 0 < truth[list(figure.terms)].sum() < 5:
            hidden.setdefault(tuple(sorted(figure.terms)), figure)
    assert hidden  # the data set has hidden small cells to attack
    return [
        (figure, int(truth[list(terms)].sum()), *bounds(terms)) for terms, figure in hidden.items()
    ]


def test_all_channels_and_channel_a_do_not_give_channel_b_s_march(seeded: Seeded) -> None:
    """The review's pair: B's March is hidden, so all channels' and A's March are not both shown."""
    client, headers = seeded.client, seeded.headers
    a, b = seeded.channels["a"], seeded.channels["b"]

    def march(params: dict[str, str]) -> Any:
        body = client.get(API, params={"year": "2025", **params}, headers=headers).json()
        return {m["month"]: m["cases"]["value"] for m in body["per_month"]}["2025-03"]

    everyone, channel_a, channel_b = march({}), march({"channel": a}), march({"channel": b})

    assert channel_b is None
    assert everyone is None or channel_a is None
    assert not (everyone == 20 and channel_a == 17)


@pytest.mark.parametrize(
    "seeded", [DATA, RATES, CLOSING], ids=["review", "rates", "closing"], indirect=True
)
def test_no_set_of_answers_pins_a_hidden_small_cell(seeded: Seeded) -> None:
    """Every hidden cell of 1 to 4 cases can, given all answers (their counts, rates and
    durations), still be 0 or at least 5."""
    revealed = [
        f"{figure.where}: holds {value}, can only be {low}..{high}"
        for figure, value, low, high in _open_cells(seeded)
        if not (low == 0 or high >= 5)
    ]

    assert revealed == []


@pytest.mark.parametrize("seeded", [RATES], ids=["rates"], indirect=True)
def test_a_rate_set_against_the_counts_does_not_give_a_hidden_outcome_back(
    seeded: Seeded,
) -> None:
    """The rates review: channel A shows 20 substantiated, 10 unsubstantiated, 33 cases, and
    hides partially substantiated (3) with not actionable and not concluded. Its substantiated
    percent (70) left only 3 for the hidden cell; the whole data set's (58) did the same. The
    attacker's arithmetic, done here by hand: every split of the hidden cases that agrees with
    what the answer shows."""
    client, headers = seeded.client, seeded.headers

    def splits(params: dict[str, str]) -> set[int]:
        """The values the hidden partially substantiated cell can take under this answer."""
        body = client.get(API, params=params, headers=headers).json()
        cases = {row["key"]: row["cases"]["value"] for row in body["per_outcome"]}
        assert cases["partially_substantiated"] is None  # the hidden cell under attack
        assert cases["substantiated"] is not None
        percent = body["substantiated_percent"]["value"]
        rest = body["total"]["value"] - sum(v for v in cases.values() if v is not None)
        shown_concluded = sum(v for k, v in cases.items() if k != "none" and v is not None)
        hidden_others = [
            k for k, v in cases.items() if v is None and k not in ("none", PARTLY)
        ]  # other concluded outcomes the answer hides
        found = set()
        for partly in range(rest + 1):
            for others in range(rest - partly + 1):
                if others and not hidden_others:
                    continue
                if cases["none"] is not None and partly + others != rest:
                    continue  # "none" is shown: every hidden case is concluded
                concluded = shown_concluded + partly + others
                upheld = cases["substantiated"] + partly
                if percent is None or round(100 * upheld / concluded) == percent:
                    found.add(partly)
        return found

    channel_a = splits({"channel": seeded.channels["a"]})
    everyone = splits({})

    assert channel_a != {3}, "channel A's rate pins its 3 partially substantiated"
    assert everyone != {3}, "the whole data set's rate pins the 3 partially substantiated"
    assert 0 in channel_a
    assert 0 in everyone


@pytest.mark.parametrize("seeded", [CLOSING], ids=["closing"], indirect=True)
def test_the_count_of_closed_cases_does_not_give_the_open_ones_back(seeded: Seeded) -> None:
    """3 cases are not concluded; the outcomes table hides "none" (with unsubstantiated). The
    count behind the time to close was every concluded case: 51 - 48 = 3."""
    body = seeded.client.get(API, headers=seeded.headers).json()
    cases = {row["key"]: row["cases"]["value"] for row in body["per_outcome"]}
    closed = body["time_to_close"]["cases"]["value"]

    assert cases["none"] is None
    assert closed is None, f"{body['total']['value']} - {closed} open cases"
    assert body["time_to_close"]["median_days"]["value"] is None


def test_the_oracle_finds_what_the_old_rule_gave_away() -> None:
    """The oracle is not blind: shown 20 and 17 with B hidden pin B's March at 3."""
    unknowns = Unknowns(["a", "b"])
    a, b = (unknowns.index[("month", "2025", c, "2025-03")] for c in "ab")
    shown = [Published("all", (a, b), 20), Published("a", (a,), 17)]

    low, high = _bounds(unknowns, shown, list(unknowns.ties()))((b,))

    assert (low, high) == (3, 3)


@pytest.mark.parametrize(
    ("locale", "said"),
    [("en", "no two sets of figures, one subtracted from the other"), ("zh-CN", "两组数字相减")],
)
def test_the_page_says_why_filtered_figures_hide_more(
    seeded: Seeded, locale: str, said: str
) -> None:
    """The statistics page explains, in the reader's language, the differencing rule."""
    staff_token = seeded.headers["Authorization"].removeprefix("Bearer ")
    headers = {"Cookie": f"__Host-staff={staff_token}", "Accept-Language": locale}

    page = seeded.client.get(
        "/staff/statistics", params={"channel": seeded.channels["a"]}, headers=headers
    )

    assert page.status_code == 200
    assert said in page.text
    assert 'id="differencing-note"' in page.text


def test_a_range_of_years_does_not_give_a_year_s_rewards_back(
    seeded: Seeded, app_db: sessionmaker[Any]
) -> None:
    """Rewards: 3 offered in 2024, 10 in 2025; 2024-2025 (or all years) minus 2025 is not 3."""
    with unit_of_work(app_db) as db:
        staff = db.scalars(select(StaffAccount.id)).first()
        rewarded = [
            *db.scalars(select(Case.id).where(Case.submitted_on == date(2024, 5, 6)).limit(3)),
            *db.scalars(select(Case.id).where(Case.submitted_on == date(2025, 3, 3)).limit(10)),
        ]
        db.add_all(
            Reward(
                case_id=case_id,
                channel_id=seeded.channels["a"],
                status="offered",
                currency="CNY",
                recovered_loss_minor=1,
                suggested_minor=1,
                amount_minor=1000,
                approvals_needed=1,
                proposed_by=staff,
                proposed_at=datetime(2025, 4, 1),
                offered_on=date(2025, 4, 1),
            )
            for case_id in rewarded
        )
    client, headers = seeded.client, seeded.headers

    def offered(params: dict[str, str]) -> Any:
        body = client.get(API, params=params, headers=headers).json()
        rows = {(r["currency"], r["stage"]): r for r in body["rewards"]}
        return rows[("CNY", "offered")]["rewards"]["value"], rows[("CNY", "offered")]

    this_year, _row = offered({"year": "2025"})
    both, both_row = offered({"from": "2024", "to": "2025"})
    every, _row = offered({})

    assert this_year == 10
    assert both is None
    assert every is None
    assert both_row["amount_minor"]["value"] is None
