"""Recording what people did, append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from npmtool.models import AuditEvent
from npmtool.services import actor_id


def record(session: Session, user: Any, action: str, object_type: str, object_id: int | None,
           **details: Any) -> AuditEvent:
    """Add an audit event to the session; it is committed with the change it describes."""
    event = AuditEvent(user_id=actor_id(user), action=action, object_type=object_type,
                       object_id=object_id, details=details)
    session.add(event)
    return event
