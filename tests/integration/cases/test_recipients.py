"""Who a new report is routed to (before the policy), against an oracle written from the rule.

`OrgService.recipients` reads the team, its fallback and the people's roles in one statement
built for speed; the oracle below recomputes the documented rule in plain Python from the
rows this test wrote, for many random staff, team and rule layouts, on each database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cases.db import new_id
from cases.org.models import Channel, ChannelMember, RoutingRule
from cases.org.service import OrgService
from cases.staff.models import Role, StaffAccount, StaffRole

ROLES = (Role.INVESTIGATOR, Role.RETALIATION_OFFICER, Role.ADMIN, Role.CUSTODIAN)


@dataclass
class Person:
    id: str
    email: str
    active: bool
    roles: set[str]
    member: bool


def oracle(people: list[Person], rules: dict[str, str], retaliation: bool) -> list[str]:
    """The rule as docs/access.md states it, by e-mail (the order recipients() returns)."""
    if retaliation:
        chosen = [p for p in people if p.active and Role.RETALIATION_OFFICER in p.roles]
        return sorted(p.email for p in chosen)
    investigators = [p for p in people if p.active and Role.INVESTIGATOR in p.roles]
    team = [p for p in investigators if p.member] or investigators
    by_id = {p.id: p for p in team}
    for person in people:
        action = rules.get(person.id)
        if action == "remove":
            by_id.pop(person.id, None)
        elif action == "add" and person.active and Role.INVESTIGATOR in person.roles:
            by_id[person.id] = person
    return sorted(p.email for p in by_id.values())


def _add(db: Session, channel: Channel, person: Person) -> None:
    db.add(
        StaffAccount(
            id=person.id,
            email=person.email,
            active=person.active,
            password_hash="-",
            kdf_salt=b"s" * 16,
            kdf_profile="test",
            public_key=b"k" * 32,
            wrapped_private_key=b"w",
        )
    )
    db.flush()
    db.add_all(StaffRole(staff_id=person.id, role=role) for role in person.roles)
    if person.member:
        db.add(ChannelMember(channel_id=channel.id, staff_id=person.id))
    db.flush()


def _layout(db: Session, rng: random.Random, channel: Channel) -> list[Person]:
    db.execute(delete(RoutingRule))
    db.execute(delete(ChannelMember))
    db.execute(delete(StaffRole))
    db.execute(delete(StaffAccount))
    people = [
        Person(
            id=new_id(),
            email=f"p{n}-{rng.randrange(10**6)}@corp.example",
            active=rng.random() < 0.8,
            roles={str(r) for r in ROLES if rng.random() < 0.45},
            member=rng.random() < 0.4,
        )
        for n in range(rng.randint(0, 6))
    ]
    for person in people:
        _add(db, channel, person)
    return people


def test_recipients_match_the_rule_for_random_teams_and_rules(db_session: Session) -> None:
    """Team or fallback, roles, activity and add/remove rules: always the oracle's people."""
    org = OrgService(db_session)
    channel = org.general_channel()
    ordinary = next(c for c in channel.categories if not c.retaliation)
    retaliation = next(c for c in channel.categories if c.retaliation)
    rng = random.Random(1729)
    fallbacks = teams = 0
    for _ in range(40):
        people = _layout(db_session, rng, channel)
        rules = {p.id: rng.choice(("add", "remove")) for p in people if rng.random() < 0.3}
        db_session.add_all(
            RoutingRule(category_id=ordinary.id, staff_id=staff_id, action=action)
            for staff_id, action in rules.items()
        )
        db_session.flush()
        db_session.expire_all()

        got = [p.email for p in org.recipients(channel, ordinary)]
        officers = [p.email for p in org.recipients(channel, retaliation)]

        assert got == oracle(people, rules, retaliation=False)
        assert officers == oracle(people, {}, retaliation=True)
        has_team = any(p.member and p.active and Role.INVESTIGATOR in p.roles for p in people)
        teams += has_team
        fallbacks += not has_team and any(Role.INVESTIGATOR in p.roles for p in people)
    # The layouts exercised both branches of the rule, not just one.
    assert teams >= 5
    assert fallbacks >= 5


def test_a_member_without_the_investigator_role_does_not_make_a_team(db_session: Session) -> None:
    """A channel whose only member is finance falls back to every active investigator."""
    org = OrgService(db_session)
    channel = org.general_channel()
    ordinary = next(c for c in channel.categories if not c.retaliation)
    people = [
        Person(new_id(), "finance@corp.example", True, {str(Role.ADMIN)}, True),
        Person(new_id(), "inv@corp.example", True, {str(Role.INVESTIGATOR)}, False),
        Person(new_id(), "gone@corp.example", False, {str(Role.INVESTIGATOR)}, True),
    ]
    for person in people:
        _add(db_session, channel, person)

    got = [p.email for p in org.recipients(channel, ordinary)]

    assert got == ["inv@corp.example"]
