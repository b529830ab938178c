"""Channels, categories, teams and routing rules; the organisation's recovery key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.db import Base, new_id, utcnow


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    acknowledge_days: Mapped[int] = mapped_column(Integer, default=7)
    feedback_months: Mapped[int] = mapped_column(Integer, default=3)
    # Months after closing before a case is deleted for good (cases/retention).
    retention_months: Mapped[int] = mapped_column(Integer, default=36, server_default="36")

    categories: Mapped[list[Category]] = relationship(
        back_populates="channel", order_by="Category.position", lazy="selectin"
    )

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("channel_id", "slug"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reports in this category go to retaliation officers instead of the channel team.
    retaliation: Mapped[bool] = mapped_column(Boolean, default=False)

    channel: Mapped[Channel] = relationship(back_populates="categories")

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class ChannelMember(Base):
    """A channel's team; a channel with none has every active investigator as its team."""

    __tablename__ = "channel_members"

    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )


class RoutingRule(Base):
    """Per category: add or remove one staff member from the recipients."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("category_id", "staff_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))  # "add" or "remove"


class RecoveryKey(Base):
    """Public half of the organisation's offline recovery key; the private half is never stored."""

    __tablename__ = "recovery_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # HMAC over (id, "recovery", public_key) under a server-secret key: see cases/keytrust.py.
    public_key_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ConfigVersion(Base):
    """One row: a token that database triggers replace with a random one on every change to
    what a filing reads as configuration (channels, categories, teams, routing rules, staff
    accounts and roles, questionnaires), in the changing transaction (migration
    `0022_config_version`).

    A process keeps that configuration as plain data (cases/org/snapshot.py) while the token
    it read is unchanged, as the text scan does with `people_version`. Random, not a counter:
    a counter comes back to an old value after a rollback or a restore; a random token never.
    """

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
