"""The case list at scale: filters, sort, search among openable cases, saved views, bulk work."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, World, build_world

from cases.audit.models import AuditEntry
from cases.casework.bulk import BulkRefused, BulkRequest, BulkWork
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock, local_day
from cases.errors import Kind, NotFound
from cases.org.models import Channel
from cases.reports.models import Case, CaseAssignee, Status
from cases.retention.service import RetentionConfig, RetentionService
from cases.workflow.flood import FloodTriage
from cases.workflow.listing import CaseFilters, CaseList
from cases.workflow.search import CaseSearch
from cases.workflow.views import SavedViews

TODAY = date(2026, 3, 20)


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session, FixedClock())


def service(world: World) -> CaseworkService:
    return CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))


def test_filters_by_date_range_assignee_and_sort(world: World) -> None:
    """Received dates bound the list, 'none' finds the unassigned, sort and order apply."""
    ana = world.staff("ana@example.com")
    first = world.file("first").case
    world.clock.advance(days=5)  # type: ignore[attr-defined]
    second = world.file("second").case
    service(world).assign(ana.principal(world.db, world.clock), second.id, ana.account.id)
    listing = CaseList(world.db)

    since = listing.page(ana.account, TODAY, CaseFilters(received_from=second.submitted_on))
    until = listing.page(ana.account, TODAY, CaseFilters(received_to=first.submitted_on))
    mine = listing.page(ana.account, TODAY, CaseFilters(assignee_id=ana.account.id))
    nobody = listing.page(ana.account, TODAY, CaseFilters(assignee_id="none"))
    newest = listing.page(ana.account, TODAY, CaseFilters(sort="received", order="desc"))

    assert [r.id for r in since.rows] == [second.id]
    assert [r.id for r in until.rows] == [first.id]
    assert [r.id for r in mine.rows] == [second.id]
    assert mine.rows[0].assignee_ids == (ana.account.id,)
    assert [r.id for r in nobody.rows] == [first.id]
    assert [r.id for r in newest.rows] == [second.id, first.id]


def test_filters_round_trip_through_the_query_string_and_drop_junk(world: World) -> None:
    """Known values survive to_params/from_params; unknown or malformed ones are dropped."""
    filters = CaseFilters(
        status="new", due="overdue", received_from=date(2026, 1, 1), sort="received", order="desc"
    )

    again = CaseFilters.from_params(filters.to_params())
    junk = CaseFilters.from_params({"status": "gone", "from": "yesterday", "sort": "summary"})

    assert again == filters
    assert junk == CaseFilters()


def test_search_finds_words_only_in_cases_the_viewer_may_open(world: World) -> None:
    """A word in a hidden case is neither listed nor counted; in a visible one it is found."""
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    seen = world.file("Kickback from Zephyr Trading", details="The 飞单 went to Zephyr.").case
    hidden = world.file("Zephyr again", exclude=[ana.account.id]).case
    me = ana.principal(world.db, world.clock)

    found, summaries = service(world).search(me, CaseFilters(), "zephyr")
    chinese, _ = service(world).search(me, CaseFilters(), "飞单")
    theirs, _ = service(world).search(bo.principal(world.db, world.clock), CaseFilters(), "ZEPHYR")

    assert [h.row.id for h in found.hits] == [seen.id]
    assert (found.total, found.searched) == (1, 1)
    assert summaries == {seen.id: "Kickback from Zephyr Trading"}
    assert [h.row.id for h in chinese.hits] == [seen.id]
    assert {h.row.id for h in theirs.hits} == {seen.id, hidden.id}


def test_search_by_reference_and_its_window(world: World) -> None:
    """A reference is found by its letters; beyond the window the result says it was cut."""
    ana = world.staff("ana@example.com")
    cases = [world.file(f"case {n}").case for n in range(3)]
    me = ana.principal(world.db, world.clock)

    by_ref = CaseSearch(world.db).search(me, TODAY, CaseFilters(), cases[1].reference.lower())
    small = CaseSearch(world.db, window=2).search(me, TODAY, CaseFilters(), "case")
    whole = CaseSearch(world.db, window=3).search(me, TODAY, CaseFilters(), "case")

    assert cases[1].id in [h.row.id for h in by_ref.hits]
    assert (small.total, small.searched, small.cut) == (2, 2, True)
    assert (whole.total, whole.cut) == (3, True)


def test_search_records_one_entry_without_the_words(world: World) -> None:
    """The audit trail says a search read N cases, never what was searched for."""
    ana = world.staff("ana@example.com")
    world.file("nothing to see")

    service(world).search(ana.principal(world.db, world.clock), CaseFilters(), "secretword")

    entries = list(world.db.scalars(select(AuditEntry).where(AuditEntry.action == "case.search")))
    assert len(entries) == 1
    assert "secretword" not in entries[0].detail
    assert '"searched": 1' in entries[0].detail


def test_saved_views_are_per_person_and_hold_filters_only(world: World) -> None:
    """A view stores the filter query string; another person neither lists nor deletes it."""
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    views = SavedViews(world.db, world.clock)
    me, them = ana.principal(world.db, world.clock), bo.principal(world.db, world.clock)

    saved = views.save(me, "  Overdue  new ", CaseFilters(status="new", due="overdue"))
    again = views.save(me, "Overdue new", CaseFilters(status="new"))

    assert [v.name for v in views.list(me)] == ["Overdue new"]
    assert (again.id, again.query) == (saved.id, "status=new")
    assert views.list(them) == []
    with pytest.raises(NotFound):
        views.delete(them, saved.id)
    views.delete(me, saved.id)
    assert views.list(me) == []


def bulk(world: World) -> BulkWork:
    work = service(world)
    return BulkWork(work, FloodTriage(world.db, world.clock, SECRET, ZONE))


def test_bulk_transition_changes_every_case_and_audits_each(world: World) -> None:
    """Two new cases acknowledged with one reason: both move, two audit entries."""
    ana = world.staff("ana@example.com")
    ids = tuple(world.file(f"c{n}").case.id for n in range(2))

    changed = bulk(world).run(
        ana.principal(world.db, world.clock),
        BulkRequest("transition", ids, status="acknowledged", reason="Logged"),
    )

    statuses = set(world.db.scalars(select(Case.status).where(Case.id.in_(ids))))
    audited = world.db.scalars(
        select(AuditEntry.case_id).where(AuditEntry.action == "case.transition")
    )
    assert changed == 2
    assert statuses == {Status.ACKNOWLEDGED}
    assert sorted(audited) == sorted(ids)


def test_bulk_is_all_or_nothing_and_names_the_refusing_case(world: World) -> None:
    """One case that may not move rolls back the others and is named with its reason."""
    ana = world.staff("ana@example.com")
    good = world.file("good").case
    done = world.file("done").case
    me = ana.principal(world.db, world.clock)
    service(world).transition(me, done.id, "acknowledged", "first")

    with pytest.raises(BulkRefused) as refused:
        bulk(world).run(
            me, BulkRequest("transition", (good.id, done.id), status="acknowledged", reason="x")
        )

    world.db.refresh(good)
    assert good.status == Status.NEW
    assert refused.value.reference == done.reference
    assert refused.value.cause.code == "transition_not_allowed"
    assert refused.value.cause.kind is Kind.CONFLICT


def test_bulk_refuses_a_hidden_case_without_naming_it(world: World) -> None:
    """A case the viewer may not see refuses the batch as 'no such case', by the id sent."""
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    mine = world.file("mine").case
    hidden = world.file("hidden", exclude=[ana.account.id]).case

    with pytest.raises(BulkRefused) as refused:
        bulk(world).run(
            ana.principal(world.db, world.clock),
            BulkRequest("assign", (mine.id, hidden.id), staff_id=bo.account.id),
        )

    assert refused.value.reference == hidden.id
    assert refused.value.cause.kind is Kind.NOT_FOUND
    assert (
        world.db.scalars(select(CaseAssignee).where(CaseAssignee.case_id == mine.id)).first()
        is None
    )


def test_bulk_dismiss_refuses_a_report_that_did_not_arrive_in_a_flood(world: World) -> None:
    """Dismissing is for flood-marked new reports: an ordinary one refuses the whole batch."""
    ana = world.staff("ana@example.com")
    ordinary = world.file("ordinary").case

    with pytest.raises(BulkRefused) as refused:
        bulk(world).run(
            ana.principal(world.db, world.clock), BulkRequest("dismiss", (ordinary.id,))
        )

    world.db.refresh(ordinary)
    assert refused.value.cause.code == "not_dismissible"
    assert ordinary.status == Status.NEW


def test_a_dismissed_flood_report_is_deleted_a_period_after_a_second_reader_agrees(
    world: World,
) -> None:
    """Dismissing a flood-marked report closes it with the channel's period, but one reader's
    dismissal starts no clock: it is kept until a second reader agrees, and the retention
    round deletes its content once the period has passed from that day (it was kept for
    ever with no closing day before 2026-11-30, then deleted from the dismissal's day)."""
    ana, bob = world.staff("ana@example.com"), world.staff("bob@example.com")
    case = world.file("junk").case
    case.flood_hour = world.clock.now().replace(minute=0, second=0, microsecond=0)
    world.db.flush()
    channel = world.db.get(Channel, case.channel_id)
    assert channel is not None
    kept = RetentionService(world.db, world.clock, RetentionConfig(ZONE, SECRET))

    bulk(world).run(ana.principal(world.db, world.clock), BulkRequest("dismiss", (case.id,)))
    world.db.refresh(case)
    dismissed = (case.status, case.closed_on, case.retention_months, case.unconfirmed_by)
    world.clock.advance(days=31 * channel.retention_months + 31)
    unconfirmed = kept.run()
    service(world).agree_second_reading(bob.principal(world.db, world.clock), case.id)
    agreed_on = local_day(world.clock.now(), ZONE)
    world.clock.advance(days=31 * channel.retention_months - 31)
    before = kept.run()
    world.clock.advance(days=62)
    after = kept.run()

    assert dismissed == (Status.CLOSED, None, channel.retention_months, ana.account.id)
    assert case.closed_on == agreed_on
    assert (unconfirmed, before, after) == (0, 0, 1)
    deleted = select(Case.retention_deleted_on, Case.content).where(Case.id == case.id)
    assert world.db.execute(deleted).one() == (local_day(world.clock.now(), ZONE), b"")
