"""Channels and categories: lookups and who a channel's reports go to."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from cases.errors import NotFound
from cases.org.models import Category, Channel, ChannelMember, RoutingRule
from cases.staff.models import KeyApproval, Role, StaffAccount, StaffRole

# Built once (each keeps its cache key): every report filed routes through these. Each
# loads the people with their roles in the same statement (not a second, selectin, query).
_TEAMMATE = aliased(StaffAccount)
_TEAMMATE_ROLE = aliased(StaffRole)
_HAS_TEAM = exists().where(
    ChannelMember.channel_id == bindparam("channel"),
    ChannelMember.staff_id == _TEAMMATE.id,
    _TEAMMATE.active.is_(True),
    _TEAMMATE_ROLE.staff_id == _TEAMMATE.id,
    _TEAMMATE_ROLE.role == Role.INVESTIGATOR.value,
)
# The channel's team (its active members with the investigator role), or, when it has
# none, every active investigator: OrgService.investigators in one statement.
_INVESTIGATORS = (
    select(StaffAccount)
    .options(joinedload(StaffAccount.roles))
    .where(
        StaffAccount.active.is_(True),
        StaffAccount.id.in_(
            select(StaffRole.staff_id).where(StaffRole.role == Role.INVESTIGATOR.value)
        ),
        or_(
            StaffAccount.id.in_(
                select(ChannelMember.staff_id).where(
                    ChannelMember.channel_id == bindparam("channel")
                )
            ),
            ~_HAS_TEAM,
        ),
    )
    .order_by(StaffAccount.email)
)
_WITH_ROLE = (
    select(StaffAccount)
    .options(joinedload(StaffAccount.roles))
    .where(
        StaffAccount.active.is_(True),
        StaffAccount.id.in_(select(StaffRole.staff_id).where(StaffRole.role == bindparam("role"))),
    )
    .order_by(StaffAccount.email)
)
# With its categories in the same statement (not a second, selectin, query).
_CHANNEL = (
    select(Channel).options(joinedload(Channel.categories)).where(Channel.id == bindparam("id"))
)
_RULES = select(RoutingRule).where(RoutingRule.category_id == bindparam("category"))


class OrgService:
    def __init__(self, db: Session) -> None:
        self.db = db

    def general_channel(self) -> Channel:
        """The "General" channel every install starts with (seeded by migration 0002)."""
        channel = self.db.scalars(select(Channel).where(Channel.slug == "general")).first()
        if channel is None:
            raise NotFound("The General channel is missing: run `portal migrate`.")
        return channel

    def active_channels(self) -> list[Channel]:
        stmt = select(Channel).where(Channel.active.is_(True)).order_by(Channel.slug)
        return list(self.db.scalars(stmt))

    def channel(self, channel_id: str) -> Channel | None:
        channel = self.db.scalars(_CHANNEL, {"id": channel_id}).unique().first()
        return channel if channel is not None and channel.active else None

    def category(self, channel: Channel, category_id: str) -> Category | None:
        for category in channel.categories:
            if category.active and category.id == category_id:
                return category
        return None

    def recipients(self, channel: Channel, category: Category) -> list[StaffAccount]:
        """The staff a new report in this channel and category is routed to, before the policy.

        Retaliation reports go to retaliation officers, never to the ordinary team. Otherwise
        the channel's team (or every active investigator when none is set), adjusted by the
        category's rules. Only investigators receive ordinary reports: a team member or rule
        naming someone without that role (finance, say) hands them no case key.
        """
        if category.retaliation:
            return self.with_role(Role.RETALIATION_OFFICER)
        team = self.investigators(channel)
        rules = self.db.scalars(_RULES, {"category": category.id})
        by_id = {s.id: s for s in team}
        for rule in rules:
            if rule.action == "remove":
                by_id.pop(rule.staff_id, None)
            elif rule.action == "add":
                added = self.db.get(StaffAccount, rule.staff_id)
                if added is not None and added.active and added.has_role(Role.INVESTIGATOR):
                    by_id[added.id] = added
        return sorted(by_id.values(), key=lambda s: s.email)

    def investigators(self, channel: Channel) -> list[StaffAccount]:
        """The channel's team, or every active investigator when it has none."""
        return list(self.db.scalars(_INVESTIGATORS, {"channel": channel.id}).unique())

    def unreachable_categories(self, channel: Channel) -> set[str]:
        """The ids of the channel's active ordinary categories whose new reports nobody could
        read today (no recipient enrolled without an approval pending): what
        `unstaffed_channels` says of a channel, per category, after its routing rules.
        Retaliation categories go to the retaliation officers, whom no rule or team changes."""
        waiting = set(
            self.db.scalars(select(KeyApproval.staff_id).where(KeyApproval.status == "pending"))
        )
        return {
            category.id
            for category in channel.categories
            if category.active
            and not category.retaliation
            and not any(
                person.totp_enrolled and person.id not in waiting
                for person in self.recipients(channel, category)
            )
        }

    def unstaffed_channels(self) -> list[Channel]:
        """Active channels where no investigator could read a new report today: none is
        enrolled (TOTP done, so their key pair is theirs) without an approval still pending."""
        waiting = set(
            self.db.scalars(select(KeyApproval.staff_id).where(KeyApproval.status == "pending"))
        )
        return [
            channel
            for channel in self.active_channels()
            if not any(
                person.totp_enrolled and person.id not in waiting
                for person in self.investigators(channel)
            )
        ]

    def with_role(self, role: Role) -> list[StaffAccount]:
        """Every active account with this role, by e-mail."""
        return list(self.db.scalars(_WITH_ROLE, {"role": role.value}).unique())
