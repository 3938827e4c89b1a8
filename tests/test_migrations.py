"""The schema comes from Alembic migrations only, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from npmtool.database import is_up_to_date
from npmtool.extensions import db
from npmtool.models import Base


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(app):
    assert is_up_to_date(app)


def test_no_create_all_anywhere():
    from pathlib import Path

    source = Path(__file__).parents[1] / "npmtool"
    offenders = [str(p) for p in source.rglob("*.py") if "create_all(" in p.read_text(encoding="utf-8")]
    assert offenders == []
