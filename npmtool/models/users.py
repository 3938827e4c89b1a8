"""Accounts, roles, region scoping and login attempts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from npmtool.models.base import Base, Tracked, utcnow
from npmtool.models.reference import Region

# DESIGN.md §4. "public" is nobody's account: it is the anonymous visitor.
ROLES = ("admin", "coordinator", "monitor", "council", "cso")
# Roles whose view of data is limited to their country and regions.
SCOPED_ROLES = ("coordinator", "monitor", "cso")


class User(UserMixin, Tracked, Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # None: every country (admins, a regional council of all three NPMs).
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    language: Mapped[str | None] = mapped_column(String(5))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def region_ids(self) -> set[int]:
        return {m.region_id for m in self.memberships}


class Membership(Base):
    """A user's region scope. A scoped user without memberships sees the
    whole of their country."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    region: Mapped[Region] = relationship()


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)
