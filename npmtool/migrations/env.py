"""Alembic environment: runs on the connection npmtool.database hands over."""

from alembic import context

import npmtool.models  # noqa: F401 — registers every table
from npmtool.models.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
