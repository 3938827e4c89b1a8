"""Re-encrypting every sealed column under the newest data key.

Any column named ``*_sealed`` holds Fernet ciphertext (interview notes and
identities, complaint texts, complainants' identities and contacts, their
attachments). Finding them from the metadata means a table added later is
re-sealed too: a key rotation that forgot one table would leave its rows
unreadable once the old key is removed."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from npmtool.crypto import Sealer
from npmtool.models import Base


def sealed_tables() -> list[tuple[Table, list[str]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns if c.name.endswith("_sealed")]
        if columns:
            found.append((table, columns))
    return found


def reseal_all(session: Session, sealer: Sealer, batch: int = 500) -> dict[str, int]:
    """Re-seal every sealed value; returns the number of rows per table.

    Direct column updates: re-sealing is not an edit, so versions and
    "updated by" stay as they were."""
    counts: dict[str, int] = {}
    for table, columns in sealed_tables():
        key = table.c.id
        last_id, done = 0, 0
        while True:
            rows = session.execute(
                select(key, *(table.c[name] for name in columns)).where(key > last_id).order_by(key).limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                values = {name: sealer.reseal(getattr(row, name)) for name in columns}
                session.execute(table.update().where(key == row.id).values(**values))
                last_id = row.id
            done += len(rows)
            session.commit()
        counts[table.name] = done
    return counts
