"""The outbox: e-mails to staff that say only "there is news, log in", queued in the database.

A mail never carries report content, a case reference or a category: an inbox is read on
shared screens and phones, and whoever sees it learns only that the portal wants attention.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

from cases.access.models import ProtectiveMeasure
from cases.access.policy import eligible
from cases.clock import Clock, local_day
from cases.db import table_of
from cases.notify.models import OutboxMessage
from cases.reports.models import Case, CaseAssignee, KeyWrap, PendingGrant, Status
from cases.staff.models import Role, StaffAccount, StaffRole

SUBJECT = "Speak Up: there is news / 有新动态"
BODY = (
    "There is news in the Speak Up portal that needs your attention.\n"
    "Log in to read it: {url}\n\n"
    "举报平台有新的动态需要您处理。\n"
    "请登录查看：{url}\n"
)
# Sent to admins when a case has nobody eligible to read it: it names no case.
WAITING_BODY = (
    "A case in the Speak Up portal is waiting for someone eligible to read it: everyone who\n"
    "would receive it is named in it, above someone named, or excluded. Log in and check the\n"
    "teams and roles: {url}\n\n"
    "举报平台中有一个案件正在等待有资格处理的人员：本应接收它的人都被举报、是被举报人的上级，\n"
    "或已被排除。请登录检查团队和角色设置：{url}\n"
)
REMINDER_DAYS = 2
OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING)


# Built once: every report filed queues its team's mails through these.
_OUTBOX = table_of(OutboxMessage).c
_QUEUED = select(_OUTBOX.dedupe_key).where(
    _OUTBOX.dedupe_key.in_(bindparam("keys", expanding=True))
)
_INSERT_MAIL = insert(table_of(OutboxMessage))


@dataclass(frozen=True)
class NotifyConfig:
    base_url: str
    zone: ZoneInfo


def next_full_hour(moment: datetime) -> datetime:
    """Round up to the hour, so a mail's times do not reveal when a reporter acted."""
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


# Mails about a case, sent to the people the policy lets read it (or its assignees): each
# one's address, or how many went, set against a team an admin knows, would tell who the
# case keeps away (named, above someone named, or excluded by the reporter). The admin's
# outbox shows them by hour and status only (cases/org/admin.py, AdminService.outbox).
TEAM_MAIL_KINDS = frozenset({"new_case", "reporter_message", "deadline", "measure"})


def withdraw_team_mail(db: Session, case_id: str, staff_id: str) -> int:
    """Drop every mail about this case still waiting for this person: they have just lost the
    case (a held mention of them was released), and a "there is news" mail sent now would
    tell them, to the hour, that the reporter wrote again. Returns how many were dropped."""
    measures = select(ProtectiveMeasure.id).where(ProtectiveMeasure.case_id == case_id)
    about_case = [
        OutboxMessage.dedupe_key.like(f"{kind}:{case_id}:%:{staff_id}")
        for kind in ("new_case", "reporter_message", "deadline")
    ]
    about_measure = [
        OutboxMessage.dedupe_key.like(f"measure:{measure}:%:{staff_id}")
        for measure in db.scalars(measures)
    ]
    dropped = db.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status == "pending", or_(*about_case, *about_measure))
        .execution_options(synchronize_session=False)
    )
    return int(dropped.rowcount or 0)  # type: ignore[attr-defined]


class Outbox:
    def __init__(self, db: Session, clock: Clock, config: NotifyConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    def case_filed(self, case: Case, team: list[StaffAccount] | None = None) -> int:
        """A new case: its key holders (and those awaiting the key) hear there is news.

        Intake passes the team it has just given the key to (the policy allowed each of
        them in the same transaction); otherwise the team is read from the key wraps."""
        if team is None:
            return self._reporter_triggered("new_case", case, self._team(case.id))
        # A case filed in this transaction: no mail about it can be queued yet.
        people = sorted(team, key=lambda p: p.email)
        return self._reporter_triggered("new_case", case, people, new=True)

    def case_waiting(self, case: Case) -> int:
        """Nobody eligible holds a new case's key: every active admin hears that one waits."""
        admins = (
            select(StaffAccount)
            .join(StaffRole)
            .where(StaffRole.role == Role.ADMIN, StaffAccount.active.is_(True))
            .order_by(StaffAccount.email)
        )
        at = next_full_hour(self.clock.now())
        body = WAITING_BODY.format(url=f"{self.config.base_url}/staff/login")
        return sum(
            self._enqueue(
                admin.email, "case_waiting", f"case_waiting:{case.id}:{admin.id}", at, body
            )
            for admin in self.db.scalars(admins)
        )

    def reporter_message(self, case: Case) -> int:
        """The reporter wrote or added evidence: the assignees, or else the whole team, hear."""
        assigned = self._assignees(case.id)
        return self._reporter_triggered("reporter_message", case, assigned or self._team(case.id))

    def deadline_reminders(self) -> int:
        """One mail per person and case when a legal deadline is near; deduplicated per day."""
        today = local_day(self.clock.now(), self.config.zone)
        stmt = select(Case).where(
            Case.status.in_([str(s) for s in OPEN_STATUSES]),
            Case.due_on.is_not(None),
            Case.due_on <= today + timedelta(days=REMINDER_DAYS),
            # A new case waits for its hour like its "new case" mail (reports/arrivals.py).
            Case.held_until.is_(None),
        )
        queued = 0
        for case in self.db.scalars(stmt):
            for person in self._assignees(case.id) or self._team(case.id):
                key = f"deadline:{case.id}:{today.isoformat()}:{person.id}"
                queued += self._enqueue(person.email, "deadline", key, self.clock.now())
        return queued

    def measure_reminders(self, measures: Iterable[ProtectiveMeasure]) -> int:
        """A protective measure's follow-up day has come: its case's people and the retaliation
        officers the policy allows hear, once per measure, person and day, even after closing."""
        today = local_day(self.clock.now(), self.config.zone)
        queued = 0
        for measure in measures:
            case = self.db.get(Case, measure.case_id)
            if case is None:
                continue
            for person in self._measure_people(case):
                key = f"measure:{measure.id}:{today.isoformat()}:{person.id}"
                queued += self._enqueue(person.email, "measure", key, self.clock.now())
        return queued

    def notify(self, person: StaffAccount, kind: str, dedupe_key: str) -> int:
        """Queue the fixed "log in" mail for one person; 0 when that key was already queued."""
        return self._enqueue(person.email, kind, dedupe_key, self.clock.now())

    def _measure_people(self, case: Case) -> list[StaffAccount]:
        officers = (
            select(StaffAccount)
            .join(StaffRole)
            .where(StaffRole.role == Role.RETALIATION_OFFICER, StaffAccount.active.is_(True))
        )
        people = {p.id: p for p in self._assignees(case.id) or self._team(case.id)}
        people.update({p.id: p for p in self.db.scalars(officers)})
        return eligible(self.db, sorted(people.values(), key=lambda p: p.email), case)

    def _reporter_triggered(
        self, kind: str, case: Case, people: Iterable[StaffAccount], *, new: bool = False
    ) -> int:
        # Both stored times move to the next full hour: an operator reading the outbox (or a
        # mail's Date header) must not learn the minute a reporter submitted or wrote.
        at = next_full_hour(self.clock.now())
        hour = at.isoformat(timespec="hours")
        mails = {f"{kind}:{case.id}:{hour}:{person.id}": person.email for person in people}
        return self._enqueue_all(mails, kind, at, look=not new)

    def _enqueue(
        self, to: str, kind: str, dedupe_key: str, at: datetime, body: str | None = None
    ) -> int:
        exists = self.db.scalars(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        if exists is not None:
            return 0
        self.db.add(
            OutboxMessage(
                to_address=to,
                subject=SUBJECT,
                body=body or BODY.format(url=f"{self.config.base_url}/staff/login"),
                kind=kind,
                dedupe_key=dedupe_key,
                next_attempt_at=at,
                created_at=at,
            )
        )
        self.db.flush()
        return 1

    def _enqueue_all(
        self, mails: dict[str, str], kind: str, at: datetime, *, look: bool = True
    ) -> int:
        """_enqueue for many {dedupe key: address} at once: one lookup (none when the keys
        cannot exist yet), one flush."""
        if not mails:
            return 0
        queued: set[str] = set()
        if look:
            queued = set(self.db.scalars(_QUEUED, {"keys": sorted(mails)}))
        body = BODY.format(url=f"{self.config.base_url}/staff/login")
        fresh = [
            {
                "to_address": to,
                "subject": SUBJECT,
                "body": body,
                "kind": kind,
                "dedupe_key": key,
                "next_attempt_at": at,
                "created_at": at,
            }
            for key, to in mails.items()
            if key not in queued
        ]
        if fresh:
            # One statement for all of them; the rows are never needed as objects here.
            self.db.execute(_INSERT_MAIL, fresh)
        return len(fresh)

    def _team(self, case_id: str) -> list[StaffAccount]:
        holders = select(KeyWrap.staff_id).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == "case"
        )
        waiting = select(PendingGrant.staff_id).where(
            PendingGrant.case_id == case_id, PendingGrant.key_kind == "case"
        )
        stmt = select(StaffAccount).where(
            StaffAccount.active.is_(True),
            StaffAccount.id.in_(holders.union(waiting).scalar_subquery()),
        )
        return self._allowed(case_id, self.db.scalars(stmt.order_by(StaffAccount.email)))

    def _assignees(self, case_id: str) -> list[StaffAccount]:
        stmt = (
            select(StaffAccount)
            .join(CaseAssignee, CaseAssignee.staff_id == StaffAccount.id)
            .where(CaseAssignee.case_id == case_id, StaffAccount.active.is_(True))
        )
        return self._allowed(case_id, self.db.scalars(stmt))

    def _allowed(self, case_id: str, people: Iterable[StaffAccount]) -> list[StaffAccount]:
        """Only those the access policy lets see the case: a key or an assignment left behind
        by a recusal or a newly named subject must not earn someone a mail about it."""
        case = self.db.get(Case, case_id)
        return [] if case is None else eligible(self.db, list(people), case)

    def recent(self, limit: int = 100) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
        return list(self.db.scalars(stmt))
