"""Domain operations: plain functions over a SQLAlchemy session.

They validate, write, commit and then fire event hooks. No request objects,
no templates: the web layer and the CLI both call them."""


class ServiceError(Exception):
    """A rule of the domain refused an operation; the message is for people."""


class StaleEdit(ServiceError):
    """Someone saved the record after the form was opened."""
