"""Administration: staff accounts, channels, categories, routing, teams and the directory.

Admins configure; they never read report content. Everything here works on clear
metadata (names, flags, counts) and every change is written to the audit trail with ids
and flags only. Roles are checked per person against the one table of forbidden
combinations (cases/staff/roles.py, `check_roles`); besides, an admin cannot change their
own roles or deactivate themselves, and the last active admin cannot lose the role, so the
organisation is never locked out of its settings.

Accounts are made without a password (an enrolment link instead), and whatever an admin
does to an account that could hand it keys waits for a key holder's approval
(cases/org/approvals.py); whatever takes a role away removes its keys at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

import crypto
from cases.access.eligibility import drop_all_keys, prune
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import Clock, local_day
from cases.errors import Conflict, Forbidden, Invalid, NotFound
from cases.keytrust import WITHHOLDING, untrusted_rows
from cases.notify.models import OutboxMessage
from cases.notify.service import TEAM_MAIL_KINDS, NotifyConfig
from cases.org.approvals import ApprovalService
from cases.org.claims import ClaimService, mark
from cases.org.models import Category, Channel, ChannelMember, RoutingRule
from cases.org.recovery import RecoveryService
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, CaseAssignee, KeyWrap, Status
from cases.sessions.service import SessionService
from cases.staff.directory import DirectoryService, ImportReport, Row
from cases.staff.enrolment import EnrolmentService
from cases.staff.models import DirectoryEntry, KeyApproval, Role, StaffAccount, StaffRole
from cases.staff.roles import check_roles
from cases.staff.service import StaffService

NAME_MAX = 200
SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.CONCLUDED)
DIRECTORY_PAGE = 50


@dataclass(frozen=True)
class AdminConfig:
    server_secret: bytes
    profile: crypto.Argon2Profile
    # Where staff log in, for the enrolment link and the approvers' "log in" notice.
    base_url: str = ""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    recovery_fingerprint: str = ""


@dataclass(frozen=True)
class WebAccount:
    """An account made on the web and the one-time token of its enrolment link."""

    account: StaffAccount
    enrolment_token: str


@dataclass(frozen=True)
class Overview:
    staff: int
    channels: int
    open_cases: int
    outbox_pending: int
    outbox_failed: int
    directory_entries: int
    recovery_key: bool
    # Key rows that fail their MAC (cases/keytrust.py): someone wrote to the database.
    untrusted_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxRow:
    """One line of the admin's outbox: a mail, or (`to` None) the mails of one kind about
    cases queued for one time, whose addresses are not shown (TEAM_MAIL_KINDS)."""

    queued: datetime
    to: str | None
    status: str  # pending | sent | failed
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class ChannelForm:
    name_en: str
    name_zh: str
    acknowledge_days: int
    feedback_months: int
    active: bool = True
    # Months after closing before a case is deleted (cases/retention): 1 to 240.
    retention_months: int = 36


@dataclass(frozen=True)
class DirectoryResult:
    report: ImportReport
    revoked: int


@dataclass
class TeamChange:
    grants: int = 0
    revoked: int = 0
    refused: list[str] = field(default_factory=list)


class AdminService:
    def __init__(self, db: Session, clock: Clock, config: AdminConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.audit = AuditLog(db, clock, config.server_secret)
        self.keys = KeyRing(db, self.audit, config.server_secret)

    # --- overview --------------------------------------------------------------------------

    def overview(self, me: StaffPrincipal) -> Overview:
        """Counts only: how many, never what.

        None of them moves when a report arrives: an admin reloading this page must not learn
        the minute a reporter filed. Open cases count those filed before today (a case
        stores its day only), and the outbox counts mails from their queued time, which for
        a reporter's mail is the next full hour (cases/notify/service.py)."""
        require_admin(me)
        today = local_day(self.clock.now(), self.config.zone)
        return Overview(
            staff=self._count(select(func.count()).select_from(StaffAccount)),
            channels=self._count(select(func.count()).select_from(Channel)),
            open_cases=self._count(
                select(func.count())
                .select_from(Case)
                .where(Case.status.in_([str(s) for s in OPEN_STATUSES]), Case.submitted_on < today)
            ),
            outbox_pending=self._outbox_count("pending"),
            outbox_failed=self._outbox_count("failed"),
            directory_entries=self._count(select(func.count()).select_from(DirectoryEntry)),
            recovery_key=self.recovery_configured(),
            untrusted_keys=tuple(
                row.describe()
                for row in untrusted_rows(
                    self.db, self.config.server_secret, self.config.recovery_fingerprint
                )
            ),
        )

    def recovery_configured(self) -> bool:
        return RecoveryService(self.db, self.config.server_secret).active() is not None

    def _count(self, stmt: object) -> int:
        return int(self.db.scalar(stmt) or 0)  # type: ignore[call-overload]

    def _outbox_count(self, status: str) -> int:
        """Mails of this status, a case's team's mails counted as one per kind and queued
        time (as the outbox page shows them), failed ones one by one."""
        return sum(1 for row in self._outbox_rows(status=status))

    def _queued_by_now(self) -> ColumnElement[bool]:
        """Mails whose queued time has come: a mail a reporter's request queued is dated the
        next full hour, and shown (and counted) from then, so its row does not appear at
        the minute the reporter acted."""
        return OutboxMessage.created_at <= self.clock.now()

    # --- staff accounts --------------------------------------------------------------------

    def accounts(self, me: StaffPrincipal) -> list[StaffAccount]:
        require_admin(me)
        return list(self.db.scalars(select(StaffAccount).order_by(StaffAccount.email)))

    def create_account(
        self,
        me: StaffPrincipal,
        email: str,
        roles: list[str],
        *,
        name: str = "",
        employee_id: str = "",
    ) -> WebAccount:
        """A new account without a password: the admin gets a one-time enrolment link.

        It receives no key until a key holder approves it (cases/org/approvals.py).
        """
        require_admin(me)
        check_roles(set(roles))
        self._check_employee(employee_id)
        account = self._staff().create_unenrolled(
            email, roles, name=name.strip()[:NAME_MAX], employee_id=employee_id.strip()
        )
        token = self._enrolment().issue(account, me.id)
        self._record(me, "admin.staff_created", account.id, roles=sorted(set(roles)))
        self._approvals().request(me, account, "new_account")
        return WebAccount(account, token)

    def set_roles(self, me: StaffPrincipal, staff_id: str, roles: list[str]) -> None:
        """New roles wait for a key holder's approval; keys the remaining roles do not
        allow are removed at once."""
        require_admin(me)
        account = self._account(staff_id)
        wanted = set(roles)
        if account.id == me.id:
            raise Forbidden("You cannot change your own roles; ask another admin.")
        unknown = wanted - {r.value for r in Role}
        if not wanted or unknown:
            raise Invalid("Choose at least one known role.", fields={"roles": "required"})
        check_roles(wanted)
        if account.has_role(Role.ADMIN) and Role.ADMIN not in wanted:
            self._keep_an_admin()
        added = wanted - account.role_names
        account.roles = [r for r in account.roles if r.role in wanted] + [
            StaffRole(role=r) for r in sorted(added)
        ]
        self.db.flush()
        if added:
            self._approvals().request(me, account, "role_added")
        pruned = prune(self.db, account, self.keys)
        self._record(
            me, "admin.roles_changed", account.id, roles=sorted(wanted), keys_removed=pruned.total
        )

    def deactivate(self, me: StaffPrincipal, staff_id: str) -> int:
        """Switch the account off, end its sessions and remove every key it holds."""
        require_admin(me)
        account = self._account(staff_id)
        if account.id == me.id:
            raise Forbidden("You cannot deactivate your own account.")
        if account.has_role(Role.ADMIN):
            self._keep_an_admin()
        account.active = False
        ended = SessionService(self.db, self.clock).close_all_for_staff(account.id)
        pruned = prune(self.db, account, self.keys)
        self._record(
            me, "admin.staff_deactivated", account.id, sessions=ended, keys_removed=pruned.total
        )
        return ended

    def reactivate(self, me: StaffPrincipal, staff_id: str) -> None:
        """Back on, but with no new key until a key holder approves."""
        require_admin(me)
        account = self._account(staff_id)
        if account.active:
            return
        account.active = True
        self._record(me, "admin.staff_reactivated", account.id)
        self._approvals().request(me, account, "reactivated")

    def reset_login(self, me: StaffPrincipal, staff_id: str) -> str:
        """Lost password or authenticator: a fresh enrolment link; returns its token.

        The old password, key pair and TOTP stop working now, so neither the admin nor
        anyone who knew the old password can log in; the person's keys (unopenable without
        the old key pair) are removed, and new ones wait for a key holder's approval.
        """
        require_admin(me)
        account = self._account(staff_id)
        if account.id == me.id:
            raise Forbidden("You cannot reset your own login; ask another admin.")
        self._staff().clear_login(account)
        SessionService(self.db, self.clock).close_all_for_staff(account.id)
        # Withhold first, so re-routing the cases it held queues nothing for the account.
        self._approvals().request(me, account, "login_reset")
        removed = drop_all_keys(self.db, account, self.keys)
        token = self._enrolment().issue(account, me.id)
        self._record(me, "admin.login_reset", account.id, keys_removed=removed)
        return token

    def reset_totp(self, me: StaffPrincipal, staff_id: str) -> str:
        """A TOTP reset is a login reset: the person sets a new password by a fresh link."""
        return self.reset_login(me, staff_id)

    def update_account(
        self,
        me: StaffPrincipal,
        staff_id: str,
        roles: list[str] | None = None,
        active: bool | None = None,
    ) -> StaffAccount:
        """The API's PATCH: the same rules as the admin pages, roles first."""
        require_admin(me)
        account = self._account(staff_id)
        if roles is not None:
            self.set_roles(me, staff_id, roles)
        if active is False and account.active:
            self.deactivate(me, staff_id)
        elif active is True and not account.active:
            self.reactivate(me, staff_id)
        return account

    def awaiting_approval(self, me: StaffPrincipal) -> set[str]:
        """Ids of accounts whose keys are withheld (for the admin's list: a flag, no detail)."""
        require_admin(me)
        stmt = select(KeyApproval.staff_id).where(KeyApproval.status.in_(WITHHOLDING))
        return set(self.db.scalars(stmt))

    def awaiting_enrolment(self, me: StaffPrincipal) -> set[str]:
        require_admin(me)
        stmt = select(StaffAccount.id).where(StaffAccount.password_hash == "")
        return set(self.db.scalars(stmt))

    def link_employee(self, me: StaffPrincipal, staff_id: str, employee_id: str) -> None:
        """Tie an account to its directory entry, so the policy knows their place in the chain."""
        require_admin(me)
        account = self._account(staff_id)
        employee_id = employee_id.strip()
        self._check_employee(employee_id)
        before = mark(self.db)
        account.employee_id = employee_id or None
        self.db.flush()
        self._record(me, "admin.staff_linked", account.id, linked=bool(employee_id))
        self._claims().record(me, before)
        AccessService(self.db, self.clock, self.audit).enforce_all()

    def _check_employee(self, employee_id: str) -> None:
        employee_id = employee_id.strip()
        if not employee_id:
            return
        found = self.db.scalars(
            select(DirectoryEntry.id).where(DirectoryEntry.employee_id == employee_id)
        ).first()
        if found is None:
            raise Invalid(
                "No directory entry has that employee id.", fields={"employee_id": "unknown"}
            )

    def _keep_an_admin(self) -> None:
        if self._staff().count_admins() <= 1:
            raise Conflict("The last admin must stay an admin.", code="last_admin")

    def _account(self, staff_id: str) -> StaffAccount:
        account = self.db.get(StaffAccount, staff_id) if len(staff_id) <= 64 else None
        if account is None:
            raise NotFound
        return account

    def _enrolment(self) -> EnrolmentService:
        return EnrolmentService(self.db, self.clock, self._staff())

    def _claims(self) -> ClaimService:
        notify = NotifyConfig(self.config.base_url, self.config.zone)
        return ClaimService(self.db, self.clock, self.audit, notify)

    def _approvals(self) -> ApprovalService:
        notify = NotifyConfig(self.config.base_url, self.config.zone)
        return ApprovalService(self.db, self.clock, self.audit, notify)

    def _staff(self) -> StaffService:
        return StaffService(
            self.db,
            self.clock,
            server_secret=self.config.server_secret,
            profile=self.config.profile,
        )

    # --- channels and categories -----------------------------------------------------------

    def channels(self, me: StaffPrincipal) -> list[Channel]:
        require_admin(me)
        return list(self.db.scalars(select(Channel).order_by(Channel.slug)))

    def channel(self, me: StaffPrincipal, channel_id: str) -> Channel:
        require_admin(me)
        channel = self.db.get(Channel, channel_id) if len(channel_id) <= 64 else None
        if channel is None:
            raise NotFound
        return channel

    def create_channel(self, me: StaffPrincipal, slug: str, form: ChannelForm) -> Channel:
        require_admin(me)
        slug = _slug(slug)
        if self.db.scalars(select(Channel.id).where(Channel.slug == slug)).first():
            raise Invalid("That short name is taken.", fields={"slug": "taken"})
        channel = Channel(slug=slug)
        _apply_channel(channel, form)
        self.db.add(channel)
        self.db.flush()
        self._record(me, "admin.channel_created", channel.id)
        return channel

    def update_channel(self, me: StaffPrincipal, channel_id: str, form: ChannelForm) -> None:
        channel = self.channel(me, channel_id)
        before = channel.retention_months
        _apply_channel(channel, form)
        if form.retention_months < before:
            self._keep_promised(channel, before)
        self._record(
            me,
            "admin.channel_updated",
            channel.id,
            active=form.active,
            retention_months=form.retention_months,
        )

    def _keep_promised(self, channel: Channel, months: int) -> None:
        """A shorter period applies to cases filed from now on: every case already in the
        channel, open or closed, keeps at least the period it was filed (or closed) under,
        which is what its reporter was told (docs/retention.md, "The period"). Otherwise an
        admin colluding with the accused cuts the period while the case about him is open,
        and it is deleted a month after the team closes it."""
        self.db.execute(
            update(Case)
            .where(
                Case.channel_id == channel.id,
                Case.retention_deleted_on.is_(None),
                or_(Case.retention_months.is_(None), Case.retention_months < months),
            )
            .values(retention_months=months)
            .execution_options(synchronize_session=False)
        )

    def add_category(
        self,
        me: StaffPrincipal,
        channel_id: str,
        slug: str,
        name_en: str,
        name_zh: str,
        *,
        retaliation: bool = False,
    ) -> Category:
        channel = self.channel(me, channel_id)
        slug = _slug(slug)
        if any(c.slug == slug for c in channel.categories):
            raise Invalid("That short name is taken.", fields={"slug": "taken"})
        category = Category(
            channel_id=channel.id,
            slug=slug,
            position=max((c.position for c in channel.categories), default=-1) + 1,
            retaliation=retaliation,
        )
        _apply_names(category, name_en, name_zh)
        self.db.add(category)
        self.db.flush()
        self.db.refresh(channel)
        self._record(me, "admin.category_added", category.id, retaliation=retaliation)
        return category

    def update_category(
        self,
        me: StaffPrincipal,
        category_id: str,
        name_en: str,
        name_zh: str,
        *,
        active: bool,
        retaliation: bool,
    ) -> None:
        category = self.category(me, category_id)
        if category.retaliation and not retaliation and self._last_retaliation(category):
            # Reporters' complaints about retaliation are filed here (reporting.py,
            # complaint_category): without it, every complaint would be refused.
            raise Conflict(
                "The last retaliation category must keep sending to retaliation officers.",
                code="last_retaliation_category",
            )
        _apply_names(category, name_en, name_zh)
        category.active, category.retaliation = active, retaliation
        self._record(
            me, "admin.category_updated", category.id, active=active, retaliation=retaliation
        )

    def _last_retaliation(self, category: Category) -> bool:
        others = select(Category.id).where(
            Category.retaliation.is_(True), Category.id != category.id
        )
        return self.db.scalars(others.limit(1)).first() is None

    def move_category(self, me: StaffPrincipal, category_id: str, step: int) -> None:
        """Swap a category with its neighbour above (step -1) or below (step +1)."""
        category = self.category(me, category_id)
        ordered = sorted(category.channel.categories, key=lambda c: (c.position, c.slug))
        index = ordered.index(category)
        other = index + (1 if step > 0 else -1)
        if not 0 <= other < len(ordered):
            return
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, item in enumerate(ordered):
            item.position = position
        self.db.flush()
        self._record(me, "admin.category_moved", category.id)

    def category(self, me: StaffPrincipal, category_id: str) -> Category:
        require_admin(me)
        category = self.db.get(Category, category_id) if len(category_id) <= 64 else None
        if category is None:
            raise NotFound
        return category

    # --- routing rules ---------------------------------------------------------------------

    def rules(self, me: StaffPrincipal, channel: Channel) -> list[RoutingRule]:
        require_admin(me)
        ids = [c.id for c in channel.categories]
        stmt = select(RoutingRule).where(RoutingRule.category_id.in_(ids))
        return list(self.db.scalars(stmt))

    def add_rule(self, me: StaffPrincipal, category_id: str, staff_id: str, action: str) -> None:
        """New reports in this category also go to (add) or skip (remove) one person."""
        category = self.category(me, category_id)
        account = self._account(staff_id)
        if action not in {"add", "remove"}:
            raise Invalid("Choose add or remove.", fields={"action": "required"})
        if action == "add" and not account.has_role(Role.INVESTIGATOR):
            raise Invalid(
                "Only investigators can receive a category's reports.",
                fields={"staff_id": "no_role"},
            )
        before = self._unreachable(category.channel)
        self.db.execute(
            delete(RoutingRule).where(
                RoutingRule.category_id == category.id, RoutingRule.staff_id == account.id
            )
        )
        self.db.add(RoutingRule(category_id=category.id, staff_id=account.id, action=action))
        self.db.flush()
        self._keep_reachable(category.channel, before)
        self._record(me, "admin.rule_set", category.id, staff=account.id, rule=action)
        if action == "add":
            # Routing a category to someone is joining its team: a key holder approves first.
            self._approvals().request(me, account, "team_joined", category.channel_id)

    def remove_rule(self, me: StaffPrincipal, rule_id: str) -> str:
        """Drop a routing rule; returns its channel's id."""
        require_admin(me)
        rule = self.db.get(RoutingRule, rule_id) if len(rule_id) <= 64 else None
        category = self.db.get(Category, rule.category_id) if rule is not None else None
        if rule is None or category is None:
            raise NotFound
        before = self._unreachable(category.channel)
        self.db.delete(rule)
        self.db.flush()
        self._keep_reachable(category.channel, before)
        self._record(me, "admin.rule_removed", rule.category_id, staff=rule.staff_id)
        return category.channel_id

    # --- channel teams ---------------------------------------------------------------------

    def members(self, me: StaffPrincipal, channel: Channel) -> list[StaffAccount]:
        require_admin(me)
        stmt = (
            select(StaffAccount)
            .join(ChannelMember, ChannelMember.staff_id == StaffAccount.id)
            .where(ChannelMember.channel_id == channel.id)
            .order_by(StaffAccount.email)
        )
        return list(self.db.scalars(stmt))

    def add_member(self, me: StaffPrincipal, channel_id: str, staff_id: str) -> TeamChange:
        """Join a team; the channel's cases reach them once a key holder approves."""
        channel = self.channel(me, channel_id)
        account = self._account(staff_id)
        if not account.active or not account.has_role(Role.INVESTIGATOR):
            raise Invalid(
                "Only investigators can be on a channel's team.", fields={"staff_id": "no_role"}
            )
        change = TeamChange()
        if self.db.get(ChannelMember, (channel.id, account.id)) is not None:
            return change
        self.db.add(ChannelMember(channel_id=channel.id, staff_id=account.id))
        self.db.flush()
        self._record(me, "admin.member_added", channel.id, staff=account.id)
        self._approvals().request(me, account, "team_joined", channel.id)
        return change

    def remove_member(self, me: StaffPrincipal, channel_id: str, staff_id: str) -> TeamChange:
        """Leave a team: keys to the channel's cases go, except where they are assigned.

        Refused as a whole when they hold the only staff key to one of those cases.
        """
        channel = self.channel(me, channel_id)
        account = self._account(staff_id)
        change = TeamChange()
        for case in self._cases_held(channel.id, account.id):
            if self.db.get(CaseAssignee, (case.id, account.id)) is not None:
                continue
            if self.keys.staff_holders(case.id, CASE) == [account.id]:
                change.refused.append(case.reference)
                continue
            self.keys.revoke_staff(case.id, CASE, account.id)
            change.revoked += 1
        if change.refused:
            raise Conflict(
                "This person is the only one who can open some of this channel's cases. "
                "Give a colleague access first.",
                code="last_key_holder",
            )
        before = self._unreachable(channel)
        self.db.execute(
            delete(ChannelMember).where(
                ChannelMember.channel_id == channel.id, ChannelMember.staff_id == account.id
            )
        )
        self.db.flush()
        self._keep_reachable(channel, before)
        self._record(me, "admin.member_removed", channel.id, staff=account.id, keys=change.revoked)
        return change

    def _unreachable(self, channel: Channel) -> set[str]:
        return OrgService(self.db).unreachable_categories(channel)

    def _keep_reachable(self, channel: Channel, before: set[str]) -> None:
        """Refuse a rule or team change after which a category's new reports would reach
        nobody: each would be filed, held for the recovery key and read by no one, while the
        reporter waits (docs/access.md, "Routing never sends a category's reports to
        nobody"). A category nobody could read before (no investigator yet) is left alone."""
        if self._unreachable(channel) - before:
            raise Conflict(
                "After this change nobody could read a category's new reports. "
                "Route it to someone else first.",
                code="category_unreachable",
            )

    def _cases_held(self, channel_id: str, staff_id: str) -> list[Case]:
        stmt = (
            select(Case)
            .join(KeyWrap, KeyWrap.case_id == Case.id)
            .where(
                Case.channel_id == channel_id,
                KeyWrap.staff_id == staff_id,
                KeyWrap.key_kind == CASE,
            )
        )
        return list(self.db.scalars(stmt))

    # --- directory -------------------------------------------------------------------------

    def import_directory(self, me: StaffPrincipal, rows: list[Row]) -> DirectoryResult:
        """The same import as `portal directory import`, then the policy re-run on every case;
        what it adds that would keep an account away is a claim (cases/org/claims.py)."""
        require_admin(me)
        before = mark(self.db)
        report = DirectoryService(self.db, self.clock, self.config.server_secret).import_rows(rows)
        self.audit.record(
            me.actor,
            "directory.imported",
            detail={"created": report.created, "updated": report.updated},
        )
        self._claims().record(me, before)
        revoked = AccessService(self.db, self.clock, self.audit).enforce_all()
        return DirectoryResult(report, revoked)

    def directory(self, me: StaffPrincipal, query: str = "") -> list[DirectoryEntry]:
        require_admin(me)
        stmt = select(DirectoryEntry).order_by(DirectoryEntry.employee_id).limit(DIRECTORY_PAGE)
        query = query.strip()[:100]
        if query:
            pattern = f"%{query.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(DirectoryEntry.name).like(pattern),
                    func.lower(DirectoryEntry.employee_id).like(pattern),
                    DirectoryEntry.email.like(pattern),
                    func.lower(DirectoryEntry.department).like(pattern),
                )
            )
        return list(self.db.scalars(stmt))

    def missing_managers(self, me: StaffPrincipal) -> list[DirectoryEntry]:
        """Entries whose manager is not in the directory (a dangling chain link)."""
        require_admin(me)
        known = select(DirectoryEntry.employee_id)
        stmt = (
            select(DirectoryEntry)
            .where(
                DirectoryEntry.manager_employee_id.is_not(None),
                DirectoryEntry.manager_employee_id.not_in(known),
            )
            .order_by(DirectoryEntry.employee_id)
            .limit(DIRECTORY_PAGE)
        )
        return list(self.db.scalars(stmt))

    # --- outbox ----------------------------------------------------------------------------

    def outbox(self, me: StaffPrincipal, limit: int = 100) -> list[OutboxRow]:
        """Recent mails with status and errors, newest first; the bodies are the same fixed
        text anyway. A case's mails to its team are one line per kind and queued time, with
        no address and no number: which member of a team an admin knows got no "new case"
        mail is who the case keeps away. A mail that failed for good is shown with its
        address, so the admin can mend it."""
        require_admin(me)
        return self._outbox_rows(limit=limit)

    def _outbox_rows(
        self, *, status: str | None = None, limit: int | None = None
    ) -> list[OutboxRow]:
        team = OutboxMessage.kind.in_(sorted(TEAM_MAIL_KINDS))
        failed = OutboxMessage.status == "failed"
        shown = [self._queued_by_now()] + ([OutboxMessage.status == status] if status else [])
        singles = select(OutboxMessage).where(*shown, or_(~team, failed))
        if limit is not None:
            singles = singles.order_by(OutboxMessage.created_at.desc()).limit(limit)
        rows = [
            OutboxRow(m.created_at, m.to_address, m.status, m.attempts, m.last_error)
            for m in self.db.scalars(singles)
        ]
        # Pending before sent: a group is waiting while any of its mails is.
        grouped = (
            select(
                OutboxMessage.kind,
                OutboxMessage.created_at,
                func.min(OutboxMessage.status),
                func.max(OutboxMessage.attempts),
                func.max(OutboxMessage.last_error),
            )
            .where(*shown, team, ~failed)
            .group_by(OutboxMessage.kind, OutboxMessage.created_at)
        )
        if limit is not None:
            grouped = grouped.order_by(OutboxMessage.created_at.desc()).limit(limit)
        for _kind, queued, group_status, attempts, error in self.db.execute(grouped):
            rows.append(OutboxRow(queued, None, group_status, int(attempts or 0), error))
        rows.sort(key=lambda row: row.queued, reverse=True)
        return rows if limit is None else rows[:limit]

    def _record(self, me: StaffPrincipal, action: str, target: str, **detail: object) -> None:
        self.audit.record(me.actor, action, detail={"target": target, **detail})


def require_admin(me: StaffPrincipal) -> None:
    if not me.has_role(Role.ADMIN):
        raise Forbidden("Only admins use these pages.")


def _slug(value: str) -> str:
    slug = value.strip().lower()
    if not slug or len(slug) > 64 or not set(slug) <= SLUG_CHARS:
        raise Invalid("Use lower-case letters, digits and dashes.", fields={"slug": "bad_slug"})
    return slug


def _apply_names(item: Channel | Category, name_en: str, name_zh: str) -> None:
    errors = {
        key: ("required" if not value.strip() else "too_long")
        for key, value in (("name_en", name_en), ("name_zh", name_zh))
        if not value.strip() or len(value) > NAME_MAX
    }
    if errors:
        raise Invalid(fields=errors)
    item.name_en, item.name_zh = name_en.strip(), name_zh.strip()


def _apply_channel(channel: Channel, form: ChannelForm) -> None:
    _apply_names(channel, form.name_en, form.name_zh)
    errors = {}
    if not 1 <= form.acknowledge_days <= 90:
        errors["acknowledge_days"] = "out_of_range"
    if not 1 <= form.feedback_months <= 12:
        errors["feedback_months"] = "out_of_range"
    if not 1 <= form.retention_months <= 240:
        errors["retention_months"] = "out_of_range"
    if errors:
        raise Invalid(fields=errors)
    channel.acknowledge_days = form.acknowledge_days
    channel.feedback_months = form.feedback_months
    channel.retention_months = form.retention_months
    channel.active = form.active
