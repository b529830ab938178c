"""What a filing reads as configuration is kept per process (cases/org/snapshot.py), but never
past a change: every writer, plain SQL typed by hand included, moves the `config_version`
token (database triggers, migration 0022), so the next report is routed, checked and wrapped
by the database as it is now."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, object_session, sessionmaker
from support.db import TEST_SECRET
from support.staff_world import World, build_world

from cases.audit.models import AuditEntry
from cases.clock import FixedClock
from cases.db import make_engine, new_id, session_factory
from cases.errors import Invalid
from cases.org.recovery import RecoveryService
from cases.org.snapshot import FilingConfig
from cases.reports.intake import Filed
from cases.reports.keys import CASE, recovery_holder, staff_holder
from cases.reports.models import KeyWrap

CLOCK = FixedClock()


@pytest.fixture
def factory(fresh_database: Callable[..., str]) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_database())
    yield session_factory(engine, TEST_SECRET)
    engine.dispose()


def _team(factory: sessionmaker[Session], *emails: str) -> dict[str, str]:
    """Investigators committed to the database: {e-mail: account id}."""
    with factory() as db:
        world = build_world(db, CLOCK)
        ids = {email: world.staff(email, "investigator").account.id for email in emails}
        db.commit()
    return ids


def _file(factory: sessionmaker[Session], **changes: object) -> tuple[Filed, set[str]]:
    """One report in a transaction of its own, as the route files it: who got the case key."""
    with factory() as db:
        filed = build_world(db, CLOCK).file(**changes)
        holders = set(
            db.scalars(
                select(KeyWrap.holder).where(
                    KeyWrap.case_id == filed.case.id, KeyWrap.key_kind == CASE
                )
            )
        )
        db.commit()
    return filed, holders


def _by_hand(factory: sessionmaker[Session], statement: str, **params: object) -> None:
    """Plain SQL on a connection of its own, committed: no service, no ORM."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    with engine.begin() as connection:
        connection.execute(text(statement), params)


def _reads(factory: sessionmaker[Session]) -> list[str]:
    seen: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(factory.kw["bind"], "before_cursor_execute", record)
    return seen


def test_an_investigator_switched_off_by_hand_gets_no_key_from_the_next_report(
    factory: sessionmaker[Session],
) -> None:
    """The first report warms the kept team; an account made inactive by plain SQL in another
    connection is not wrapped for by the very next report."""
    ids = _team(factory, "a@corp.example", "b@corp.example")
    _, before = _file(factory)
    assert staff_holder(ids["b@corp.example"]) in before
    _by_hand(
        factory, "UPDATE staff_accounts SET active = FALSE WHERE id = :id", id=ids["b@corp.example"]
    )
    _, after = _file(factory)
    assert staff_holder(ids["a@corp.example"]) in after
    assert staff_holder(ids["b@corp.example"]) not in after


def test_a_role_or_routing_rule_changed_by_hand_routes_the_next_report(
    factory: sessionmaker[Session],
) -> None:
    """A role deleted and a category's "remove" rule inserted by plain SQL each keep the
    person from the next report's wraps."""
    ids = _team(factory, "a@corp.example", "b@corp.example", "c@corp.example")
    _, before = _file(factory)
    assert {staff_holder(i) for i in ids.values()} <= before
    _by_hand(
        factory,
        "DELETE FROM staff_roles WHERE staff_id = :id AND role = 'investigator'",
        id=ids["b@corp.example"],
    )
    with factory() as db:
        category_id = World(db, CLOCK, build_world(db, CLOCK).channel).category().id
    _by_hand(
        factory,
        "INSERT INTO routing_rules (id, category_id, staff_id, action) "
        "VALUES (:id, :category, :staff, 'remove')",
        id=new_id(),
        category=category_id,
        staff=ids["c@corp.example"],
    )
    _, after = _file(factory)
    assert after & {staff_holder(i) for i in ids.values()} == {staff_holder(ids["a@corp.example"])}


def test_a_category_switched_off_by_hand_refuses_the_next_report(
    factory: sessionmaker[Session],
) -> None:
    """The kept channel is not trusted past a change: a category made inactive by plain SQL
    refuses the next report filed in it."""
    _team(factory, "a@corp.example")
    filed, _ = _file(factory)
    _by_hand(
        factory, "UPDATE categories SET active = FALSE WHERE id = :id", id=filed.case.category_id
    )
    with pytest.raises(Invalid) as refused:
        _file(factory)
    assert refused.value.fields == {"category": "unknown_category"}


def test_unchanged_configuration_is_not_read_again(factory: sessionmaker[Session]) -> None:
    """With nothing changed, the next report reads the token and no channel, team or role."""
    _team(factory, "a@corp.example", "b@corp.example")
    with factory() as db:
        channel = build_world(db, CLOCK).channel  # its categories loaded, kept past the session
    _file(factory)
    seen = _reads(factory)
    with factory() as db:
        World(db, CLOCK, channel).file()
        db.commit()
    touched = " ".join(seen)
    assert "config_version" in touched
    for table in (
        "FROM channels",
        "FROM staff_roles",
        "FROM channel_members",
        "FROM routing_rules",
    ):
        assert table not in touched, table


def test_each_session_gets_its_own_objects(factory: sessionmaker[Session]) -> None:
    """The kept people become each filing's own loaded objects, never shared between sessions."""
    _team(factory, "a@corp.example")
    _file(factory)
    found = []
    for _ in range(2):
        with factory() as db:
            config = FilingConfig(db)
            world = build_world(db, CLOCK)
            channel = config.channel(world.channel.id)
            category = channel.category(world.category().id) if channel else None
            assert channel is not None
            assert category is not None
            seen = _reads(factory)
            people = config.recipients(channel, category)
            assert all(p.role_names == {"investigator"} and p.public_key for p in people)
            assert all(object_session(p) in (None, db) for p in people)
            assert seen == []  # every column and the roles loaded, without a statement
            found.append(people[0])
    assert found[0] is not found[1]
    assert found[0].id == found[1].id


def test_a_key_approval_inserted_by_hand_withholds_the_next_report(
    factory: sessionmaker[Session],
) -> None:
    """The team's approvals are kept too (migration 0029): a key approval row written by plain
    SQL (no MAC, so it withholds whatever status it claims) keeps the very next report's key
    from that investigator."""
    ids = _team(factory, "a@corp.example", "b@corp.example")
    _, before = _file(factory)
    assert staff_holder(ids["b@corp.example"]) in before
    _by_hand(
        factory,
        "INSERT INTO key_approvals (id, staff_id, reason, requested_at, status) "
        "VALUES (:id, :staff, 'new_account', :at, 'approved')",
        id=new_id(),
        staff=ids["b@corp.example"],
        at=CLOCK.now(),
    )
    _, after = _file(factory)
    assert staff_holder(ids["a@corp.example"]) in after
    assert staff_holder(ids["b@corp.example"]) not in after


def test_the_recovery_key_changed_by_hand_is_not_wrapped_for(
    factory: sessionmaker[Session],
) -> None:
    """The recovery key is kept too: one whose public key is replaced by plain SQL fails its
    MAC and gets no wrap of the next report (the refusal is audited); one switched off gets
    none either."""
    _team(factory, "a@corp.example")
    with factory() as db:
        _, row = RecoveryService(db, TEST_SECRET).create()
        recovery = recovery_holder(row.id)
        db.commit()
    _, before = _file(factory)
    assert recovery in before
    _by_hand(factory, "UPDATE recovery_keys SET public_key = :key", key=bytes(32))
    filed, replaced = _file(factory)
    with factory() as db:
        refused = db.scalars(
            select(AuditEntry.action).where(AuditEntry.case_id == filed.case.id)
        ).all()
    _by_hand(factory, "UPDATE recovery_keys SET active = FALSE")
    _, switched_off = _file(factory)
    assert recovery not in replaced
    assert "key.refused" in refused
    assert recovery not in switched_off


def test_unchanged_keys_are_not_read_again(factory: sessionmaker[Session]) -> None:
    """With nothing changed, the next report reads neither the recovery key nor approvals."""
    _team(factory, "a@corp.example", "b@corp.example")
    with factory() as db:
        RecoveryService(db, TEST_SECRET).create()
        db.commit()
    _file(factory)
    seen = _reads(factory)
    _, holders = _file(factory)
    touched = " ".join(seen)
    assert "FROM recovery_keys" not in touched
    assert "SELECT key_approvals.id" not in touched  # the policy's approvers query aside
    assert len(holders) == 4, holders  # two investigators, the reporter and the recovery key
