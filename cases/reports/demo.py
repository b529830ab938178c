"""Demo cases for `portal demo`: realistic reports in zh-CN and en, filed through intake.

Each case goes through IntakeService like a real one (validation, sealing, key wrapping for
the channel's team, the reporter and recovery). One gets a reply from the case team, sealed
with the case key the demo chose as the draft, so no staff password is needed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cases.clock import Clock, local_day
from cases.db import new_id
from cases.errors import Invalid
from cases.org.models import Channel
from cases.org.service import OrgService
from cases.reports.conversation import next_seq
from cases.reports.intake import Draft, IntakeConfig, IntakeService, SubjectInput, Submission
from cases.reports.models import CaseItem
from cases.reports.sealing import MESSAGE, seal_text


@dataclass(frozen=True)
class DemoCase:
    locale: str
    category: str
    summary: str
    details: str
    subject: str
    loss: str = ""
    reply: str = ""


DEMO_CASES = (
    DemoCase(
        "zh_CN",
        "order-diversion",
        "华东区销售把大客户订单转给竞争对手（飞单）",
        "3 月初，华东区销售张某把客户 A 公司的 200 万元订单以个人名义转给了竞争对手，"
        "客户付款进了对方账户。我在周会上看到了报价单和对方公司的合同抬头。",
        "张伟",
        "约 200 万元",
        "您好，我们已收到您的举报。请问您是否知道具体的订单编号或合同日期？",
    ),
    DemoCase(
        "zh_CN",
        "off-book-deals",
        "仓库经理私下出货，不走系统（走私单）",
        "仓库经理每月有两三次在周末私下发货，货物不录入系统，货款现金收取。"
        "出库单是手写的，没有编号。",
        "李强",
    ),
    DemoCase(
        "en",
        "kickbacks",
        "Purchasing lead takes kickbacks from a packaging supplier",
        "Since last year the purchasing lead has awarded every packaging order to one supplier "
        "at prices about 15% above the others. A colleague saw cash handed over after a "
        "supplier visit in February.",
        "Mark Chen",
        "About 300,000 CNY a year",
    ),
)


def seed_demo_cases(
    db: Session, clock: Clock, config: IntakeConfig, locale_mix: Sequence[str] = ("zh_CN", "en")
) -> str:
    """File the demo cases in the given locales; return the receipt of the first, formatted."""
    channel = OrgService(db).general_channel()
    receipts = [
        _file(db, clock, config, channel, case) for case in DEMO_CASES if case.locale in locale_mix
    ]
    if not receipts:
        raise Invalid("No demo case is written in the languages asked for.")
    return receipts[0]


def _file(db: Session, clock: Clock, config: IntakeConfig, channel: Channel, demo: DemoCase) -> str:
    category = next(c for c in channel.categories if c.slug == demo.category)
    draft = Draft.new()
    submission = Submission(
        channel_id=channel.id,
        category_id=category.id,
        summary=demo.summary,
        details=demo.details,
        subjects=[SubjectInput(name=demo.subject)],
        loss_estimate=demo.loss,
    )
    filed = IntakeService(db, clock, config).submit(submission, draft)
    # Invented by the operator, with no reporter to protect: listed at once, not held for the
    # hour a real report waits (cases/reports/arrivals.py).
    filed.case.held_until = None
    if demo.reply:
        _staff_reply(db, clock, config, draft, demo.reply)
    return filed.receipt.formatted()


def _staff_reply(db: Session, clock: Clock, config: IntakeConfig, draft: Draft, text: str) -> None:
    # The case team's first reply, written as the demo is seeded (never in the future).
    at = clock.now()
    item_id = new_id()
    db.add(
        CaseItem(
            id=item_id,
            case_id=draft.case_id,
            kind="message",
            author="staff",
            created_on=local_day(at, config.zone),
            created_at=at,
            seq=next_seq(db, draft.case_id),
            body=seal_text(draft.case_key, draft.case_id, MESSAGE, item_id, text),
        )
    )
    db.flush()
