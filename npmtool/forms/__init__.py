"""WTForms classes: they declare fields and validate input, nothing else."""

from __future__ import annotations

from typing import Any, Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[Any, Any]], optgroup: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, optionally in one <optgroup>."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]
