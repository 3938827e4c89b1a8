"""Accounts: creating them, checking passwords, throttling failed logins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from npmtool.models import LoginAttempt, Membership, Region, User
from npmtool.models.base import utcnow
from npmtool.models.users import ROLES
from npmtool.services import ServiceError, StaleEdit, actor_id, audit

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(_l("A password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _set_regions(session: Session, user: User, region_ids: Iterable[int]) -> None:
    region_ids = set(region_ids)
    if region_ids and user.country_code:
        foreign = session.scalars(select(Region.code).where(Region.id.in_(region_ids),
                                                           Region.country_code != user.country_code)).all()
        if foreign:
            raise ServiceError(_l("Regions %(regions)s are not in the user's country.", regions=', '.join(foreign)))
    user.memberships = [m for m in user.memberships if m.region_id in region_ids]
    present = {m.region_id for m in user.memberships}
    user.memberships.extend(Membership(region_id=r) for r in sorted(region_ids - present))


def create_user(session: Session, actor: Any, *, username: str, full_name: str, role: str, password: str,
                email: str = "", country_code: str | None = None, region_ids: Iterable[int] = (),
                language: str | None = None) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise ServiceError(_l("Unknown role %(role)s; roles are %(roles)s.", role=repr(role), roles=', '.join(ROLES)))
    if not username:
        raise ServiceError(_l("A user name is required."))
    if session.scalar(select(User.id).where(User.username == username)):
        raise ServiceError(_l("The user name %(username)s is taken.", username=repr(username)))
    check_password_strength(password)
    acting = actor_id(actor)
    user = User(username=username, full_name=full_name.strip(), email=email.strip(), role=role,
                password_hash=hash_password(password), country_code=country_code or None, language=language,
                created_by_id=acting, updated_by_id=acting)
    session.add(user)
    _set_regions(session, user, region_ids)
    session.flush()
    audit.record(session, actor, "user.created", "user", user.id, username=username, role=role)
    session.commit()
    return user


def update_user(session: Session, actor: Any, user: User, data: dict[str, Any], expected_version: int) -> User:
    if user.version != expected_version:
        raise StaleEdit(_l("This account was changed by someone else after you opened the form."))
    if data["role"] not in ROLES:
        raise ServiceError(_l("Unknown role %(role)s.", role=repr(data['role'])))
    if user.id == getattr(actor, "id", None) and (data["role"] != "admin" or not data["is_active_account"]):
        raise ServiceError(_l("You cannot remove your own administrator rights or deactivate yourself."))
    before = {"role": user.role, "country_code": user.country_code, "active": user.is_active_account}
    user.full_name = data["full_name"].strip()
    user.email = data.get("email", "").strip()
    user.role = data["role"]
    user.country_code = data.get("country_code") or None
    user.is_active_account = data["is_active_account"]
    user.language = data.get("language") or None
    user.updated_by_id = actor_id(actor)
    _set_regions(session, user, data.get("region_ids", ()))
    after = {"role": user.role, "country_code": user.country_code, "active": user.is_active_account}
    audit.record(session, actor, "user.updated", "user", user.id, before=before, after=after,
                 regions=sorted(data.get("region_ids", ())))
    session.commit()
    return user


def set_password(session: Session, actor: Any, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.updated_by_id = actor_id(actor)
    audit.record(session, actor, "user.password_set", "user", user.id)
    session.commit()


@dataclass
class LoginResult:
    user: User | None
    throttled: bool = False


def is_throttled(session: Session, username: str, address: str, max_failures: int, window: timedelta) -> bool:
    """Too many recent failures for this user name, or from this address."""
    since = utcnow() - window
    failures = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False),
            or_(LoginAttempt.username == username, LoginAttempt.address == address)))
    return (failures or 0) >= max_failures


def authenticate(session: Session, username: str, password: str, address: str, *,
                 max_failures: int, window: timedelta) -> LoginResult:
    """Check a password, recording the attempt. A throttled attempt is
    refused without checking the password, so guessing gains nothing."""
    username = username.strip().lower()
    if is_throttled(session, username, address, max_failures, window):
        session.add(LoginAttempt(username=username, address=address, succeeded=False))
        session.commit()
        return LoginResult(None, throttled=True)
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.is_active_account:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok and _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    else:
        # Same work as a real check, so timing does not tell which names exist.
        _hasher.hash(password)
    session.add(LoginAttempt(username=username, address=address, succeeded=ok))
    if ok:
        # A plain UPDATE: signing in is not an edit of the account, so it must not
        # bump the version and make an administrator's open form stale.
        session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow())
                        .execution_options(synchronize_session=False))
    session.commit()
    return LoginResult(user if ok else None)
