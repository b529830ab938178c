"""Statistics: suppression of small counts everywhere, refused filters, differencing, roles, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import sessionmaker
from support.staff_world import build_world
from support.statistics import seed_cases

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Category
from cases.rewards.models import Reward, RewardPayment

API = "/api/v1/statistics"
PAGE = "/staff/statistics"
MARK = '<span class="suppressed">&lt; 5</span>'


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """Staff of every statistics role and a few others; 20 cases in three categories."""
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        people = {
            role: made.staff(f"{role}@example.com", role)
            for role in ("analyst", "admin", "auditor", "investigator", "finance")
        }
        categories = {c.slug: c.id for c in made.channel.categories}
        slugs = list(categories)
        seed_cases(db, made.channel, 10, category=categories[slugs[0]])
        seed_cases(db, made.channel, 4, category=categories[slugs[1]])
        seed_cases(db, made.channel, 6, category=categories[slugs[2]])
        channel_id = made.channel.id
    return {
        "clock": clock,
        "channel": channel_id,
        "categories": categories,
        "slugs": slugs,
        **people,
    }


def token(client: Any, world: dict[str, Any], role: str) -> str:
    person, clock = world[role], world["clock"]
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return str(answer.json()["token"])


def bearer(client: Any, world: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, world, role)}"}


def cookie(client: Any, world: dict[str, Any], role: str) -> dict[str, str]:
    return {"Cookie": f"__Host-staff={token(client, world, role)}"}


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row["cases"] for row in rows}


def test_a_cell_of_four_shows_suppressed_in_html_api_and_csv(
    client: Any, world: dict[str, Any]
) -> None:
    """Category counts 10, 4, 6: the 4 is "< 5" in the API, on the page and in the CSV."""
    small = world["categories"][world["slugs"][1]]
    large = world["categories"][world["slugs"][0]]

    api = client.get(API, headers=bearer(client, world, "analyst")).json()
    headers = cookie(client, world, "analyst")
    page = client.get(PAGE, headers=headers)
    exported = client.get(f"{PAGE}/categories.csv", headers=headers)

    categories = by_key(api["per_category"])
    assert categories[small] == {"value": None, "suppressed": True}
    assert categories[large] == {"value": 10, "suppressed": False}
    assert api["total"] == {"value": 20, "suppressed": False}
    assert page.status_code == 200
    small_name = page.context["names"][small]
    assert re.search(
        rf'<th scope="row">{re.escape(small_name)}</th><td class="num">{MARK}', page.text
    )
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported.text))}
    assert rows[small][2] == "< 5"
    assert rows[large][2] == "10"
    assert "text/csv" in exported.headers["content-type"]


def test_the_page_says_small_figures_are_hidden(client: Any, world: dict[str, Any]) -> None:
    """The page states the rule, and its charts are inline SVG images with a title."""
    page = client.get(PAGE, headers=cookie(client, world, "admin"))

    assert page.template.name == "statistics/index.html"
    assert "&lt; 5" in page.text
    assert "fewer than 5 cases" in page.text
    assert '<svg class="chart" role="img" aria-labelledby="chart-categories-title"' in page.text
    assert '<title id="chart-categories-title">' in page.text
    assert "style=" not in page.text.split("<main", 1)[1]


@pytest.mark.parametrize(
    ("locale", "said"),
    [("en", "up to the end of 2026-02, the last full month"), ("zh-CN", "截至 2026-02 月底")],
)
def test_the_page_says_up_to_which_month_it_counts(
    client: Any, world: dict[str, Any], locale: str, said: str
) -> None:
    """On 2 March 2026 the figures stop at the end of February, and the page says so."""
    headers = {**cookie(client, world, "analyst"), "Accept-Language": locale}

    page = client.get(PAGE, headers=headers)

    assert 'id="cutoff-note"' in page.text
    assert said in page.text


def test_a_filter_to_three_cases_is_refused(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A category holding 3 cases: the API answers 422 too_few, the page 422 with the reason."""
    with unit_of_work(app_db) as db:
        target = world["categories"][world["slugs"][3]]
        seed_cases(db, build_world(db, world["clock"]).channel, 3, category=target)

    api = client.get(API, params={"category": target}, headers=bearer(client, world, "analyst"))
    page = client.get(PAGE, params={"category": target}, headers=cookie(client, world, "analyst"))

    assert api.status_code == 422
    assert api.json()["error"] == "too_few"
    assert page.status_code == 422
    assert page.context["stats"] is None
    assert "fewer than 5 cases" in page.text


def test_a_filter_whose_complement_is_small_is_refused(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Differencing: 2025 alone (20 of 22) is refused, as 22 - 20 would give 2024's 2 away."""
    with unit_of_work(app_db) as db:
        made = build_world(db, world["clock"])
        other = made.category(world["slugs"][2]).id
        seed_cases(db, made.channel, 2, category=other, submitted_on=date(2024, 5, 5))
    headers = bearer(client, world, "analyst")
    large = world["categories"][world["slugs"][0]]
    small_year = {"year": "2024"}

    whole = client.get(API, headers=headers).json()
    narrowed = client.get(API, params={"category": large}, headers=headers)
    both_years = client.get(API, params={"from": "2024", "to": "2025"}, headers=headers)

    assert whole["total"]["value"] == 22
    assert narrowed.status_code == 200  # 10 of 22: the rest is 12
    assert both_years.status_code == 422  # 2024 holds 2: 2024-2025 minus 2025 would show it
    assert client.get(API, params=small_year, headers=headers).status_code == 422
    assert client.get(API, params={"year": "2025"}, headers=headers).status_code == 422  # 22 - 20


def test_no_total_minus_the_shown_cells_gives_a_hidden_cell(
    client: Any, world: dict[str, Any]
) -> None:
    """Differencing within a table: the hidden cells of each table are 0 or at least 5 together."""
    api = client.get(API, headers=bearer(client, world, "analyst")).json()
    total = api["total"]["value"]

    for name in ("per_category", "per_channel", "per_outcome", "per_kind"):
        shown = sum(r["cases"]["value"] or 0 for r in api[name])
        hidden = [r for r in api[name] if r["cases"]["suppressed"]]
        assert total - shown == 0 or (len(hidden) >= 2 and total - shown >= 5), name
    months = api["per_month"]
    assert (
        sum(m["cases"]["value"] or 0 for m in months) in (total, 0)
        or total - sum(m["cases"]["value"] or 0 for m in months) >= 5
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("analyst", 200), ("admin", 200), ("auditor", 200), ("investigator", 403), ("finance", 403)],
)
def test_only_statistics_roles_read_them(
    client: Any, world: dict[str, Any], role: str, status: int
) -> None:
    """Analysts, admins and auditors: 200 on the API, the page and a CSV; other staff 403."""
    answers = [
        client.get(API, headers=bearer(client, world, role)).status_code,
        client.get(PAGE, headers=cookie(client, world, role)).status_code,
        client.get(f"{PAGE}/months.csv", headers=cookie(client, world, role)).status_code,
        client.get(f"{PAGE}/annual?year=2025", headers=cookie(client, world, role)).status_code,
    ]

    assert answers == [status] * 4


def test_the_nav_offers_the_case_list_only_to_roles_that_may_open_it(
    client: Any, world: dict[str, Any]
) -> None:
    """Analysts and admins are not led to a 403: their nav has no Cases link; others' has."""
    links = {}
    for role in ("analyst", "admin", "auditor", "investigator", "finance"):
        page = client.get("/staff/account", headers=cookie(client, world, role))
        assert page.status_code == 200
        links[role] = 'href="/staff/cases"' in page.text
    cases = {
        role: client.get("/staff/cases", headers=cookie(client, world, role)) for role in links
    }

    assert links == {
        "analyst": False,
        "admin": False,
        "auditor": False,
        "investigator": True,
        "finance": True,
    }
    # The link is shown exactly where the page answers.
    assert {role: answer.status_code == 200 for role, answer in cases.items()} == links


def test_without_a_staff_session_there_are_no_statistics(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """No session, or a reporter's own: 401 from the API and the page, and no figure."""
    with unit_of_work(app_db) as db:
        receipt = build_world(db, world["clock"]).file().receipt.formatted()
    session = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    client.cookies.clear()
    reporter = {"Authorization": f"Bearer {session.json()['token']}"}

    anonymous = client.get(API)
    as_reporter = client.get(API, headers=reporter)
    page = client.get(PAGE, headers=reporter, follow_redirects=False)

    assert session.status_code == 200
    assert anonymous.status_code == 401
    assert as_reporter.status_code == 401
    assert page.status_code in (303, 401)
    assert "total" not in anonymous.text + as_reporter.text


def test_csv_cells_cannot_run_as_formulas(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A category named like a formula is exported with a leading quote."""
    target = world["categories"][world["slugs"][0]]
    with unit_of_work(app_db) as db:
        db.execute(update(Category).where(Category.id == target).values(name_en='=HYPERLINK("x")'))

    exported = client.get(f"{PAGE}/categories.csv", headers=cookie(client, world, "analyst"))

    rows = {row[0]: row for row in csv.reader(io.StringIO(exported.text))}
    assert rows[target][1] == '\'=HYPERLINK("x")'


def test_an_unknown_table_is_404(client: Any, world: dict[str, Any]) -> None:
    """Only the listed tables export."""
    answer = client.get(f"{PAGE}/people.csv", headers=cookie(client, world, "analyst"))

    assert answer.status_code == 404


def test_figures_are_computed_from_clear_metadata(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Rates, durations, outcomes, open ages and reward totals match the seeded columns."""
    world["clock"].current = world["clock"].current.replace(year=2025, month=6, day=30)
    with unit_of_work(app_db) as db:
        made = build_world(db, world["clock"])
        cat = world["categories"][world["slugs"][0]]
        late = seed_cases(
            db,
            made.channel,
            10,
            category=cat,
            acknowledged_after=9,
            concluded_after=None,
            status="investigating",
            outcome=None,
            submitted_on=date(2025, 2, 3),
        )
        seed_cases(db, made.channel, 5, category=cat, kind="retaliation", outcome="unsubstantiated")
        staff = world["investigator"].account.id
        rewards = [
            Reward(
                case_id=case_id,
                channel_id=made.channel.id,
                status="paid",
                currency="CNY",
                recovered_loss_minor=1,
                suggested_minor=1,
                amount_minor=1000,
                approvals_needed=1,
                proposed_by=staff,
                proposed_at=world["clock"].now(),
                offered_on=date(2025, 5, 1),
            )
            for case_id in late[:6]
        ]
        db.add_all(rewards)
        db.flush()
        db.add_all(
            RewardPayment(
                reward_id=r.id,
                amount_minor=1000,
                currency="CNY",
                reference=f"P{i}",
                paid_by=staff,
                paid_at=world["clock"].now(),
            )
            for i, r in enumerate(rewards)
        )

    api = client.get(API, headers=bearer(client, world, "analyst")).json()

    assert api["total"]["value"] == 35
    assert api["acknowledged_in_time_percent"]["value"] == round(100 * 25 / 35)
    assert api["time_to_acknowledge"]["median_days"]["value"] == 2
    assert api["time_to_acknowledge"]["p90_days"]["value"] == 9
    assert api["time_to_close"]["median_days"]["value"] == 40
    assert api["substantiated_percent"]["value"] == 80
    assert api["retaliation_complaints"]["value"] == 5
    assert by_key(api["per_outcome"])["none"]["value"] == 10
    assert by_key(api["open_by_age"])["91-365"]["value"] == 10
    paid = {(r["currency"], r["stage"]): r for r in api["rewards"]}
    assert paid[("CNY", "paid")]["amount_minor"]["value"] == 6000
    assert paid[("CNY", "offered")]["rewards"]["value"] == 6


def test_every_read_is_audited_with_its_filters(client: Any, world: dict[str, Any]) -> None:
    """Each answer leaves an audit entry naming the filters asked for."""
    client.get(API, params={"year": "2025"}, headers=bearer(client, world, "analyst"))

    trail = client.get(
        "/api/v1/audit/entries",
        params={"action": "audit.statistics_read"},
        headers=bearer(client, world, "auditor"),
    ).json()["items"]

    assert trail[0]["actor_id"] == world["analyst"].account.id
    assert trail[0]["detail"] == {"from_year": 2025, "to_year": 2025}


@pytest.mark.sqlite_only
def test_on_sqlite_each_case_scan_answers_from_its_covering_index(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """SQLAlchemy's SQLite dialect dropped the `INDEXED BY` hints, and the planner then read a
    narrow index and the table row by row: 520 ms for a two-year answer at 100,000 cases
    (bench/stats). Every statistics query over `cases` must run from a covering index."""
    statements: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = app_db.kw["bind"]
    event.listen(engine, "before_cursor_execute", keep)
    try:
        answer = client.get(f"{API}?from=2024&to=2026", headers=bearer(client, world, "analyst"))
    finally:
        event.remove(engine, "before_cursor_execute", keep)

    assert answer.status_code == 200, answer.text
    scans = [s for s in statements if "INDEXED BY ix_cases_stats_" in s]
    assert len(scans) == 4, statements  # per day, the whole by month and group, open ones, lags
    with engine.connect() as conn:
        for statement in scans:
            params = ["2024-01-01"] * statement.count("?")
            plan = " ".join(
                str(r[3])
                for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(params))
            )
            assert "USING COVERING INDEX ix_cases_stats_" in plan, (statement, plan)


def test_a_report_filed_today_moves_no_figure_until_the_day_is_over(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """An admin reloads the statistics while a report is filed at 17:20 (Asia/Shanghai): every
    figure is as before for the rest of the day (and the month: the next test)."""
    clock = world["clock"]
    clock.advance(minutes=20)
    before = client.get(API, headers=bearer(client, world, "admin")).json()
    with unit_of_work(app_db) as db:
        build_world(db, clock).file(summary="Kickbacks on the March orders")
    clock.advance(hours=6)  # 15:20 UTC: 23:20 the same day in Asia/Shanghai
    later_today = client.get(API, headers=bearer(client, world, "admin")).json()

    assert later_today == before
    assert before["total"] == {"value": 20, "suppressed": False}


def test_figures_compared_day_by_day_do_not_show_an_arrival(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """The insider compares the answer of each day with the day before's: a report filed on
    2 March and one on 3 March. Counted up to the end of yesterday, the total moved by one on
    each next day (and an open case's age moved on the day it crossed a bucket, giving its
    day away). Counted up to the end of last month, no figure moves in March; on 1 April both
    arrive together, as March's."""
    clock = world["clock"]

    def figures() -> dict[str, Any]:
        answer = client.get(API, headers=bearer(client, world, "admin")).json()
        answer.pop("today")
        return cast(dict[str, Any], answer)

    before = figures()
    seen = []
    with unit_of_work(app_db) as db:
        build_world(db, clock).file(summary="Kickbacks on the March orders")
    for day in range(1, 30):  # 3 March to 31 March, 17:20 in Asia/Shanghai
        clock.advance(days=1)
        if day == 1:
            with unit_of_work(app_db) as db:
                build_world(db, clock).file(summary="Kickbacks again")
        if day in (1, 2, 10, 20, 29):
            seen.append(figures())
    clock.advance(days=1)  # 1 April
    april = figures()

    assert seen == [before] * len(seen)
    assert before["total"] == {"value": 20, "suppressed": False}
    assert april["total"] == {"value": 22, "suppressed": False}
