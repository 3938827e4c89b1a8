"""Rate limiting per address, in the database so that it holds across
gunicorn workers and restarts.

Only an HMAC of (bucket, address) is stored: the table must not become a
list of the addresses people complained from."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from npmtool.models import RateLimitHit
from npmtool.models.base import utcnow


def limit_key(secret: str, bucket: str, address: str) -> str:
    return hmac.new(secret.encode(), f"{bucket}\n{address}".encode(), hashlib.sha256).hexdigest()


def is_limited(session: Session, key: str, limit: int, window: timedelta) -> bool:
    """Has this key used up its ``limit`` hits within the window?"""
    since = utcnow() - window
    count = session.scalar(select(func.count()).select_from(RateLimitHit)
                           .where(RateLimitHit.key == key, RateLimitHit.at >= since))
    return (count or 0) >= limit


def hit(session: Session, key: str, keep: timedelta) -> None:
    """Count one request and forget hits older than ``keep`` (any key):
    the table stays as small as the busiest window."""
    now = utcnow()
    session.execute(delete(RateLimitHit).where(RateLimitHit.at < now - keep))
    session.add(RateLimitHit(key=key, at=now))
    session.commit()
