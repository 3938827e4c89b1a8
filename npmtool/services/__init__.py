"""Domain operations: plain functions over a SQLAlchemy session.

They validate, write, commit and then fire event hooks. No request objects,
no templates: the web layer and the CLI both call them."""


from typing import Any

from sqlalchemy import inspect


def actor_id(user: Any) -> int | None:
    """The id of the acting user without loading it: reading ``user.id`` on
    an expired instance would autoflush a half-made change as an extra UPDATE
    (and an extra optimistic-lock version)."""
    if user is None:
        return None
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


class ServiceError(Exception):
    """A rule of the domain refused an operation; the message is for people."""


class StaleEdit(ServiceError):
    """Someone saved the record after the form was opened."""
