"""What a filing reads as configuration, kept per process while the database says it is unchanged.

Every report reads its channel with its categories, the people it is routed to (the team or
every investigator, the category's rules, their roles), the custodians of a confidential
report, the channel's questionnaire, the recovery key and whether the team's key approvals
withhold keys. Those change rarely, so a process keeps them as plain
frozen data, under the `config_version` token they were read with: database triggers replace
the token with a random one in the transaction of every insert, update or delete of the
tables behind them (migrations `0022_config_version` and `0029_config_version_keys`),
whoever writes, a repair typed by hand
included. Each filing reads the token (one small statement) and uses what is kept under it,
reading only what is not kept yet (the first report of a channel and category after a
change), with the same queries as before, in its own transaction.

What is kept is never a session's ORM object: the people are copied out as every column of
their account row and their role names, and each filing makes its own objects from them as a
query's loader would (every column set, roles loaded, no history; detached, or the
session's own object when it holds that account already), so the access policy and the key
wrapping get what a query would have given them and no object is shared between sessions
or threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class

from cases.db import Base, table_of
from cases.keytrust import approvals_withholding, recovery_key_trusted
from cases.org.models import Category, Channel, ConfigVersion, RecoveryKey
from cases.org.service import OrgService
from cases.questionnaires.questions import Questionnaire
from cases.questionnaires.service import QuestionnaireService
from cases.staff.models import Role, StaffAccount, StaffRole

# Kept per process by token (tests and tools may use several databases in one process; the
# newest few are enough).
KEPT = 4

_VERSION = table_of(ConfigVersion).c
_TOKEN = select(_VERSION.token).where(_VERSION.id == 1)
M = TypeVar("M", bound=Base)
_ACCOUNT_COLUMNS = tuple(c.key for c in table_of(StaffAccount).columns)
_ACTIVE_RECOVERY = select(RecoveryKey).where(RecoveryKey.active.is_(True))


@dataclass(frozen=True)
class CategoryData:
    id: str
    channel_id: str
    active: bool
    retaliation: bool


@dataclass(frozen=True)
class ChannelData:
    id: str
    active: bool
    acknowledge_days: int
    feedback_months: int
    # Every category, active or not, in the channel's order.
    categories: tuple[CategoryData, ...]

    def category(self, category_id: str, *, inactive_too: bool = False) -> CategoryData | None:
        """The active category with this id (OrgService.category); `inactive_too` for a
        reporter's retaliation complaint, which a switched-off category still takes."""
        for category in self.categories:
            if (category.active or inactive_too) and category.id == category_id:
                return category
        return None


@dataclass(frozen=True)
class StaffData:
    """An account row, every column, and its role names: enough to make the ORM object."""

    id: str
    columns: tuple[tuple[str, Any], ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RecoveryData:
    """The active recovery key as a wrap needs it, and whether it is to be trusted (its MAC
    holds under the server secret, and it is the pinned one when a fingerprint is pinned)."""

    id: str
    public_key: bytes
    trusted: bool


@dataclass
class _Kept:
    """Everything read under one token; entries are added as filings first need them."""

    channels: dict[str, ChannelData | None] = field(default_factory=dict)
    people: dict[tuple[str, ...], tuple[StaffData, ...]] = field(default_factory=dict)
    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    # By (server secret, pinned fingerprint): the trust decision depends on both.
    recovery: dict[tuple[bytes, str], RecoveryData | None] = field(default_factory=dict)
    # By (server secret, account ids): those whose key approvals withhold keys.
    withholding: dict[tuple[bytes, tuple[str, ...]], frozenset[str]] = field(default_factory=dict)


_kept: dict[str, _Kept] = {}
_lock = threading.Lock()


def _under(token: str) -> _Kept:
    with _lock:
        kept = _kept.get(token)
        if kept is None:
            while len(_kept) >= KEPT:
                del _kept[next(iter(_kept))]
            kept = _kept[token] = _Kept()
        return kept


def forget() -> None:
    """Drop everything kept (tests; never needed for correctness)."""
    with _lock:
        _kept.clear()


class FilingConfig:
    """The configuration as this transaction sees it: kept data, valid under the token read now.

    Made once per filing (one statement). Anything the session has not flushed yet is
    flushed first, as a query would, so a change made earlier in the same transaction has
    already moved the token."""

    def __init__(self, db: Session) -> None:
        self.db = db
        if db.autoflush:
            db.flush()
        token = db.execute(_TOKEN).scalar_one()
        self._kept = _under(token)

    # --- channels --------------------------------------------------------------------------

    def channel(self, channel_id: str, *, inactive_too: bool = False) -> ChannelData | None:
        """The active channel with this id (OrgService.channel), with all its categories;
        `inactive_too` for a reporter's retaliation complaint, which a switched-off channel
        still takes (docs/access.md, "Retaliation")."""
        kept = self._kept.channels
        if channel_id not in kept:
            kept[channel_id] = _channel_data(self.db.get(Channel, channel_id))
        data = kept[channel_id]
        return data if data is not None and (data.active or inactive_too) else None

    # --- people ----------------------------------------------------------------------------

    def recipients(self, channel: ChannelData, category: CategoryData) -> list[StaffAccount]:
        """OrgService.recipients, before the policy."""
        return self._people(
            ("recipients", channel.id, category.id),
            lambda org: org.recipients(*_with_category(self._orm(channel.id), category.id)),
        )

    def investigators(self, channel: ChannelData) -> list[StaffAccount]:
        """OrgService.investigators (the team, or every active investigator)."""
        return self._people(
            ("investigators", channel.id),
            lambda org: org.investigators(self._orm(channel.id)),
        )

    def custodians(self) -> list[StaffAccount]:
        """Every active custodian (who receives a confidential report's identity key)."""
        return self._people(("custodians",), lambda org: org.with_role(Role.CUSTODIAN))

    def _people(
        self, key: tuple[str, ...], read: Callable[[OrgService], list[StaffAccount]]
    ) -> list[StaffAccount]:
        kept = self._kept.people
        data = kept.get(key)
        if data is None:
            people = read(OrgService(self.db))
            data = kept.setdefault(key, tuple(_staff_data(p) for p in people))
        return [_account(self.db, person) for person in data]

    def _orm(self, channel_id: str) -> Channel:
        """The session's channel (active or not), to read what is not kept yet."""
        channel = self.db.get(Channel, channel_id)
        if channel is None:
            raise LookupError(f"channel {channel_id}")
        return channel

    # --- keys (recovery_keys and key_approvals move the token too: migration 0029) -------------

    def recovery(self, server_secret: bytes, pinned_fingerprint: str) -> RecoveryData | None:
        """The active recovery key (KeyRing.wrap_for_recovery), None when none is set."""
        kept = self._kept.recovery
        key = (server_secret, pinned_fingerprint)
        if key not in kept:
            row = self.db.scalars(_ACTIVE_RECOVERY).first()
            kept[key] = (
                None
                if row is None
                else RecoveryData(
                    row.id,
                    row.public_key,
                    recovery_key_trusted(server_secret, row, pinned_fingerprint),
                )
            )
        return kept[key]

    def withholding(self, server_secret: bytes, staff_ids: list[str]) -> frozenset[str]:
        """keytrust.approvals_withholding for these accounts (a filing asks it for its team)."""
        kept = self._kept.withholding
        key = (server_secret, tuple(sorted(set(staff_ids))))
        found = kept.get(key)
        if found is None:
            found = frozenset(approvals_withholding(self.db, server_secret, list(key[1])))
            kept[key] = found
        return found

    # --- questionnaires ----------------------------------------------------------------------

    def questionnaire(self, channel_id: str) -> Questionnaire:
        """QuestionnaireService.current (frozen already: kept as it is)."""
        kept = self._kept.questionnaires
        found = kept.get(channel_id)
        if found is None:
            found = kept.setdefault(channel_id, QuestionnaireService(self.db).current(channel_id))
        return found


def _channel_data(channel: Channel | None) -> ChannelData | None:
    if channel is None:
        return None
    return ChannelData(
        id=channel.id,
        active=channel.active,
        acknowledge_days=channel.acknowledge_days,
        feedback_months=channel.feedback_months,
        categories=tuple(
            CategoryData(c.id, c.channel_id, c.active, c.retaliation) for c in channel.categories
        ),
    )


def _with_category(channel: Channel, category_id: str) -> tuple[Channel, Category]:
    for category in channel.categories:
        if category.id == category_id:
            return channel, category
    raise LookupError(f"category {category_id}")


def _staff_data(account: StaffAccount) -> StaffData:
    return StaffData(
        id=account.id,
        columns=tuple((name, getattr(account, name)) for name in _ACCOUNT_COLUMNS),
        roles=tuple(sorted(account.role_names)),
    )


def _account(db: Session, data: StaffData) -> StaffAccount:
    """This session's object for the account when it already holds one, else a detached
    object made from the kept row as a query's loader makes one (every column set and
    committed, its roles loaded, no history), for this filing alone: no `__init__`, no
    cascade, no identity-map entry, so it costs a few microseconds rather than a query."""
    held = db.identity_map.get((StaffAccount, (data.id,), None))
    if isinstance(held, StaffAccount):
        return held
    account = _new(StaffAccount, data.columns, data.id)
    roles = [
        _new(StaffRole, (("staff_id", data.id), ("role", name)), data.id, name)
        for name in data.roles
    ]
    for role in roles:
        set_committed_value(role, "account", account)
    set_committed_value(account, "roles", roles)
    return account


def _new(model: type[M], columns: tuple[tuple[str, Any], ...], *key: str) -> M:
    obj = manager_of_class(model).new_instance()
    state = instance_state(obj)
    state.dict.update(columns)
    state.key = (model, key, None)
    assert isinstance(obj, model)
    return obj
