"""Imports every table so the metadata is complete for migrations and tests."""

from cases.access.models import (
    CaseSubjectKey,
    DirectoryKey,
    DisclosureRequest,
    ItemMask,
    ProtectiveMeasure,
    RiskAssessment,
)
from cases.audit.models import AuditEntry
from cases.notify.models import JobLease, OutboxMessage
from cases.org.models import Category, Channel, ChannelMember, RecoveryKey, RoutingRule
from cases.questionnaires.models import QuestionnaireVersion
from cases.reports.handover import Handover
from cases.reports.models import (
    Attachment,
    AttachmentChunk,
    Case,
    CaseAssignee,
    CaseEvent,
    CaseExclusion,
    CaseItem,
    CaseSubject,
    KeyWrap,
    PendingGrant,
    Receipt,
)
from cases.retention.models import HoldRelease
from cases.rewards.models import Reward, RewardDecision, RewardPayment, RewardPolicy
from cases.row_order import RowOrderMark
from cases.sessions.models import ThrottleCounter, UserSession
from cases.staff.models import DirectoryEntry, SetupToken, StaffAccount, StaffRole
from cases.stats.models import StatsVersion
from cases.workflow.models import CASES_BY_RECEIVED, KEY_WRAPS_BY_HOLDER, SavedView

__all__ = [
    "CASES_BY_RECEIVED",
    "KEY_WRAPS_BY_HOLDER",
    "Attachment",
    "AttachmentChunk",
    "AuditEntry",
    "Case",
    "CaseAssignee",
    "CaseEvent",
    "CaseExclusion",
    "CaseItem",
    "CaseSubject",
    "CaseSubjectKey",
    "Category",
    "Channel",
    "ChannelMember",
    "DirectoryEntry",
    "DirectoryKey",
    "DisclosureRequest",
    "Handover",
    "HoldRelease",
    "ItemMask",
    "JobLease",
    "KeyWrap",
    "OutboxMessage",
    "PendingGrant",
    "ProtectiveMeasure",
    "QuestionnaireVersion",
    "Receipt",
    "RecoveryKey",
    "Reward",
    "RewardDecision",
    "RewardPayment",
    "RewardPolicy",
    "RiskAssessment",
    "RoutingRule",
    "RowOrderMark",
    "SavedView",
    "SetupToken",
    "StaffAccount",
    "StaffRole",
    "StatsVersion",
    "ThrottleCounter",
    "UserSession",
]
