"""A reporter's later message that names someone who can read the case takes the case from
them (and from everyone above them) before staff see the message, and not before its hour
(cases/access/held.py, docs/access.md "Names in a reporter's later messages")."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.staff_world import SECRET, ZONE, World, build_world, key_ring

import crypto
from cases.access.matching import Matcher
from cases.access.policy import may_see
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Invalid, NotFound
from cases.notify.models import OutboxMessage
from cases.principals import ReporterPrincipal
from cases.reports.arrivals import release as release_arrivals
from cases.reports.attachments import (
    AttachmentWriter,
    UploadTarget,
    evidence_name,
    next_evidence_number,
)
from cases.reports.conversation import release_held
from cases.reports.intake import IntakeConfig
from cases.reports.keys import CASE
from cases.reports.models import Attachment, Case, CaseSubject, HeldMention, KeyWrap, Receipt
from cases.reports.reporter import ReporterConfig, ReporterService
from cases.sessions.service import SessionPolicy, ThrottleRule
from cases.staff.directory import DirectoryService, Row
from portal.jobs import JobConfig, JobRunner

SALES = [
    Row("D1", "Director", "director@corp.example", "Sales", ""),
    Row("E3", "李强", "", "Sales", "D1"),
]
WORDS = "张伟一直在帮他隐瞒，还让我别再提这件事。"


class Scene:
    """Three investigators (a sales director above 李强, 张伟, a neutral one) and a report that
    names nobody, filed at 09:17; every one of them holds its key."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.clock = FixedClock(datetime(2026, 3, 2, 9, 17))
        self.world: World = build_world(db, self.clock)
        DirectoryService(db, self.clock, SECRET).import_rows(SALES)
        self.world.staff("director@corp.example", "investigator", employee_id="D1")
        self.world.staff("zw@corp.example", "investigator", name="张伟")
        self.world.staff("neutral@corp.example", "investigator")
        filed = self.world.file(
            summary="订单问题", details="上个月的订单被转给了另一家公司。", subjects=[]
        )
        self.case: Case = filed.case
        receipt = db.get(Receipt, filed.case.receipt_id)
        assert receipt is not None
        self.reporter = ReporterService(
            db,
            self.clock,
            ReporterConfig(
                intake=IntakeConfig(
                    ZONE,
                    crypto.profile_named("test", allow_test=True),
                    SECRET,
                    base_url="https://portal.example",
                ),
                session=SessionPolicy(900, 7200),
                per_selector=ThrottleRule(5, 900, hourly=True),
            ),
        )
        self.principal = ReporterPrincipal(receipt, filed.reporter_key)
        self.work = CaseworkService(db, self.clock, CaseworkConfig(ZONE, SECRET))

    def can_read(self, email: str) -> bool:
        account = self.world.people[email].account
        return bool(may_see(self.db, account, self.case))

    def holds_key(self, email: str) -> bool:
        account = self.world.people[email].account
        wraps = select(KeyWrap.staff_id).where(KeyWrap.case_id == self.case.id)
        return account.id in set(self.db.scalars(wraps))

    def messages_for(self, email: str) -> list[str]:
        me = self.world.people[email].principal(self.db, self.clock)
        return [m.body for m in self.work.view(me, self.case.id).messages]

    def jobs_sweep(self) -> int:
        """The jobs round's sweep, as `portal jobs` runs it, in this test's transaction."""
        config = JobConfig("https://portal.example", ZONE, SECRET, 60)
        return JobRunner(sessionmaker(), self.clock, config).sweep(self.db)

    def subjects(self) -> list[tuple[str, bool]]:
        rows = self.db.scalars(select(CaseSubject).where(CaseSubject.case_id == self.case.id))
        return sorted((row.matched_by, row.needs_confirmation) for row in rows)


@pytest.fixture
def scene(db_session: Session) -> Scene:
    return Scene(db_session)


def test_a_later_message_naming_an_investigator_takes_the_case_from_them_before_they_read_it(
    scene: Scene,
) -> None:
    """张伟 holds the case; at 09:20 the reporter writes that 张伟 covers for the accused. From
    10:00 the message is shown to staff, and 张伟 has neither the key nor the case."""
    assert scene.holds_key("zw@corp.example")
    assert scene.can_read("zw@corp.example")
    scene.clock.advance(minutes=3)

    scene.reporter.reply(scene.principal, WORDS)
    scene.clock.advance(minutes=40)  # 10:00
    scene.jobs_sweep()

    assert not scene.holds_key("zw@corp.example")
    assert not scene.can_read("zw@corp.example")
    with pytest.raises(NotFound):
        scene.messages_for("zw@corp.example")
    assert scene.messages_for("neutral@corp.example") == [WORDS]
    assert scene.subjects() == [("text", True)]
    mails = scene.db.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.kind == "reporter_message")
    )
    assert "zw@corp.example" not in set(mails)
    assert scene.db.scalars(select(HeldMention)).all() == []


def test_nothing_changes_before_the_hour_so_access_does_not_date_the_message(
    scene: Scene,
) -> None:
    """Between the message and its hour 张伟's access, the case's subjects and what staff see
    are as before: watching them tells nobody the minute the reporter wrote."""
    before = scene.subjects()
    scene.clock.advance(minutes=3)

    scene.reporter.reply(scene.principal, WORDS)
    scene.clock.advance(minutes=39)  # 09:59
    scene.jobs_sweep()

    assert scene.holds_key("zw@corp.example")
    assert scene.can_read("zw@corp.example")
    assert scene.subjects() == before
    assert scene.messages_for("zw@corp.example") == []
    assert scene.messages_for("neutral@corp.example") == []
    assert [m.body for m in scene.reporter.view(scene.principal).messages] == [WORDS]


def test_a_message_is_not_released_while_the_people_it_names_are_held(scene: Scene) -> None:
    """Releasing held messages on their own (without the held mentions) leaves that message
    held: staff never see it before the people it names have lost the case."""
    scene.reporter.reply(scene.principal, WORDS)
    scene.reporter.reply(scene.principal, "我还有一份发票的照片。")
    scene.clock.advance(hours=1)

    released = release_held(scene.db, scene.clock.now())

    assert released == 1
    assert scene.messages_for("zw@corp.example") == ["我还有一份发票的照片。"]
    assert scene.can_read("zw@corp.example")


def test_naming_a_rep_in_a_later_message_takes_the_case_from_their_manager(
    scene: Scene,
) -> None:
    """李强 has no account; his sales director, an investigator, loses the case at the hour."""
    scene.reporter.reply(scene.principal, "经手人是李强，他的领导也知道。")
    scene.clock.advance(hours=1)
    scene.jobs_sweep()

    assert not scene.holds_key("director@corp.example")
    assert not scene.can_read("director@corp.example")
    assert scene.can_read("zw@corp.example")
    neutral = scene.world.people["neutral@corp.example"].principal(scene.db, scene.clock)
    assert key_ring(scene.db).open_for_staff(scene.case.id, CASE, neutral) is not None


def test_a_person_the_case_already_names_is_not_added_again(scene: Scene) -> None:
    """Two messages naming 张伟, in two hours: one candidate row, not two."""
    scene.reporter.reply(scene.principal, WORDS)
    scene.clock.advance(hours=1)
    scene.jobs_sweep()
    scene.reporter.reply(scene.principal, "张伟今天又来问我了。")
    scene.clock.advance(hours=1)
    scene.jobs_sweep()

    assert scene.subjects() == [("text", True)]
    assert len(scene.messages_for("neutral@corp.example")) == 2


# --- a reporter's later file whose name they kept ------------------------------------------


def _later_file(scene: Scene, name: str, *, keep: bool = True) -> str:
    """A file the reporter uploads and adds after filing, as `POST /api/v1/reporter/attachments`
    does: the one attachment writer (named as staff will see it), then `add_evidence`."""
    target = UploadTarget(
        case_id=scene.case.id,
        case_key=scene.reporter.case_and_key(scene.principal)[1],
        author="reporter",
        grace_seconds=3600,
        chunk_size=64 * 1024,
        zone=ZONE,
    )
    shown = evidence_name(name, next_evidence_number(scene.db, scene.case.id), keep=keep)
    writer = AttachmentWriter(sessionmaker(bind=scene.db.connection()), scene.clock, target, shown)
    writer.write(b"quotation 4711")
    stored = writer.finish()
    scene.reporter.add_evidence(scene.principal, [stored.id])
    return stored.id


def _files_for(scene: Scene, email: str) -> list[str]:
    me = scene.world.people[email].principal(scene.db, scene.clock)
    return [f.name for f in scene.work.view(me, scene.case.id).files]


def test_a_later_file_named_after_a_rep_takes_the_case_from_his_manager_before_it_is_listed(
    scene: Scene,
) -> None:
    """At 09:20 the reporter adds "李强的报价单.pdf", keeping its name. Until 10:00 nothing
    changes (the director still reads the case, the file is nobody's); at the jobs round of
    10:00 the director (above 李强) loses the key and the case, and only then is the file
    listed, by its kept name, for the neutral investigator."""
    scene.clock.advance(minutes=3)
    _later_file(scene, "李强的报价单.pdf")
    scene.clock.advance(minutes=39)  # 09:59
    scene.jobs_sweep()
    before = (scene.holds_key("director@corp.example"), _files_for(scene, "director@corp.example"))

    scene.clock.advance(minutes=1)  # 10:00
    scene.jobs_sweep()

    assert before == (True, [])
    assert not scene.holds_key("director@corp.example")
    assert not scene.can_read("director@corp.example")
    assert _files_for(scene, "neutral@corp.example") == ["李强的报价单.pdf"]
    assert scene.subjects() == [("text", True)]
    assert scene.db.scalars(select(HeldMention)).all() == []


def test_a_later_file_is_not_listed_while_the_people_its_name_names_are_held(
    scene: Scene,
) -> None:
    """Listing the hour's files on their own (as a mail delivery does before it sends, without
    the jobs round) leaves a file whose kept name still holds 张伟 back; a file named
    "evidence-2.pdf" is listed. The jobs round then takes the case from 张伟 and lists it."""
    named = _later_file(scene, "张伟的报销单.pdf")
    plain = _later_file(scene, "张伟的报销单.pdf", keep=False)
    scene.clock.advance(hours=1)

    listed = release_arrivals(scene.db, scene.clock.now())
    seen = _files_for(scene, "zw@corp.example")
    scene.jobs_sweep()

    assert listed == 1
    assert seen == ["evidence-2.pdf"]
    assert scene.db.get(Attachment, plain) is not None
    assert not scene.can_read("zw@corp.example")
    assert sorted(_files_for(scene, "neutral@corp.example")) == [
        "evidence-2.pdf",
        "张伟的报销单.pdf",
    ]
    assert (
        scene.db.scalars(select(HeldMention).where(HeldMention.attachment_id == named)).all() == []
    )


def test_a_held_mention_belongs_to_one_message_or_one_file(scene: Scene) -> None:
    """Neither or both of a message and a file is a programming error, not a silent row."""
    key = scene.reporter.case_and_key(scene.principal)[1]
    matcher = Matcher(scene.db, SECRET)
    with pytest.raises(ValueError, match="one message or one file"):
        matcher.hold_mentions(scene.case, key, WORDS)
    with pytest.raises(ValueError, match="one message or one file"):
        matcher.hold_mentions(scene.case, key, WORDS, item_id="a", attachment_id="b")


# --- people who could not read cases when the reporter wrote -------------------------------


def _assign(scene: Scene, target_email: str) -> None:
    me = scene.world.people["neutral@corp.example"].principal(scene.db, scene.clock)
    target = scene.world.people[target_email].account
    scene.work.assign(me, scene.case.id, target.id)


def test_an_investigator_named_in_the_report_before_they_had_an_account_cannot_be_assigned(
    db_session: Session,
) -> None:
    """王芳 is named in the details while nobody of that name can read cases; she gets an
    investigator account later. Assigning her is refused and she receives no key."""
    scene = Scene(db_session)
    scene.case = scene.world.file(
        summary="客户名单", details="王芳把客户名单发给了竞争对手。", subjects=[]
    ).case
    assert scene.subjects() == []
    scene.world.staff("wf@corp.example", "investigator", name="王芳")

    with pytest.raises(Invalid):
        _assign(scene, "wf@corp.example")

    assert not scene.holds_key("wf@corp.example")
    assert not scene.can_read("wf@corp.example")
    assert scene.subjects() == [("text", True)]


def test_a_later_message_is_read_again_before_a_new_person_is_given_the_case(
    scene: Scene,
) -> None:
    """The reporter names 王芳 in a message; months later 王芳 becomes an investigator and a
    colleague tries to assign her: refused, no key."""
    scene.reporter.reply(scene.principal, "王芳也参与了，她负责开票。")
    scene.clock.advance(hours=1)
    scene.jobs_sweep()
    scene.world.staff("wf@corp.example", "investigator", name="王芳")

    with pytest.raises(Invalid):
        _assign(scene, "wf@corp.example")

    assert not scene.holds_key("wf@corp.example")


def test_a_pending_grant_does_not_reach_the_new_manager_of_a_rep_named_in_the_text(
    db_session: Session,
) -> None:
    """李强 is named in the details while his director has no account. The director gets one
    and a grant waits for him; the key holder's visit fulfils grants, but not his."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17))
    world = build_world(db_session, clock)
    DirectoryService(db_session, clock, SECRET).import_rows(SALES)
    neutral = world.staff("neutral@corp.example", "investigator")
    case = world.file(summary="回扣", details="李强收了供应商的回扣。", subjects=[]).case
    director = world.staff("director@corp.example", "investigator", employee_id="D1")
    colleague = world.staff("colleague@corp.example", "investigator")
    ring = key_ring(db_session, clock=clock)
    assert may_see(db_session, director.account, case)
    ring.request_grant(case.id, CASE, director.account.id, "policy_change")
    ring.request_grant(case.id, CASE, colleague.account.id, "policy_change")

    ring.fulfil_as_staff(neutral.principal(db_session, clock))

    holders = set(db_session.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))
    assert director.account.id not in holders
    assert colleague.account.id in holders
    assert not may_see(db_session, director.account, case)
