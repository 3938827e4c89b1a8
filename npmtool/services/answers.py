"""Saving checklist answers one by one, as soon as they are given.

Each save names the version of the answer the monitor's screen last saw
(0 for none). If someone else saved the item in between, the save is
refused with the other answer, so the second writer decides: nothing is
silently overwritten. A retried save of the same content is accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from npmtool.models import Answer, ChecklistItem, Visit
from npmtool.models.base import utcnow
from npmtool.models.visits import RATINGS
from npmtool.services import ServiceError, actor_id

MAX_NOTE = 5000


class AnswerConflict(ServiceError):
    """Someone else saved this item after the version the client saw."""

    def __init__(self, current: Answer) -> None:
        super().__init__(_l("Someone else answered this item meanwhile."))
        self.current = current


@dataclass
class AnswerInput:
    rating: str | None = None
    value: Any = None
    missing_note: str = ""
    improve_note: str = ""


def visit_item_ids(visit: Visit) -> set[int]:
    return {item_id for checklist in visit.checklists for item_id in checklist.item_ids}


def clean_value(item: ChecklistItem, raw: Any) -> Any:
    """Check a value against the item's answer type; return what is stored."""
    kind = item.answer_type
    if raw in (None, ""):
        return None
    if kind == "rating" or kind == "text":
        if kind == "text":
            text = str(raw).strip()
            if len(text) > MAX_NOTE:
                raise ServiceError(_l("The text is too long."))
            return text or None
        return None
    if kind == "yesno":
        if raw in (True, "yes", "true", "1", 1):
            return True
        if raw in (False, "no", "false", "0", 0):
            return False
        raise ServiceError(_l("Answer yes or no."))
    if kind == "number":
        try:
            number = float(str(raw).replace(",", "."))
        except ValueError:
            raise ServiceError(_l("Enter a number.")) from None
        if number < 0:
            raise ServiceError(_l("The number cannot be negative."))
        return int(number) if number.is_integer() else number
    if kind == "choice":
        codes = [c["code"] for c in item.options.get("choices", [])]
        if raw not in codes:
            raise ServiceError(_l("Choose one of the options."))
        return raw
    if kind == "measurement":
        if not isinstance(raw, dict):
            raise ServiceError(_l("Enter the area and the number of people."))
        try:
            area = float(str(raw.get("area_m2", "")).replace(",", "."))
            occupants = int(str(raw.get("occupants", "")))
        except ValueError:
            raise ServiceError(_l("Enter the area in m² and the number of people as numbers.")) from None
        if area <= 0 or occupants < 0 or area > 10000 or occupants > 10000:
            raise ServiceError(_l("The area must be above zero and the number of people zero or more."))
        return {"area_m2": area, "occupants": occupants}
    raise ServiceError(_l("Unknown answer type."))


def evaluate(item: ChecklistItem, value: Any, norms: dict[str, Any]) -> dict[str, Any] | None:
    """A measurement compared with the norm of the facility's type, e.g.
    10.5 m² for 6 people = 1.75 m² each, under a 2.5 m² norm."""
    if item.answer_type != "measurement" or not value:
        return None
    measurement = item.options.get("measurement", {})
    norm = norms.get(measurement.get("norm", ""))
    occupants = value["occupants"]
    per_person = round(value["area_m2"] / occupants, 2) if occupants else None
    result = {"kind": measurement.get("kind"), "per_person": per_person, "norm": norm,
              "norm_name": measurement.get("norm")}
    if norm is None or per_person is None:
        result["meets"] = None  # no norm for this facility type, or an empty cell
    else:
        result["meets"] = per_person >= norm
        result["shortfall_m2"] = round(max(norm * occupants - value["area_m2"], 0), 2)
    return result


def save_answer(session: Session, user: Any, visit: Visit, item_id: int, data: AnswerInput,
                base_version: int) -> Answer:
    """Save one answer. ``base_version`` is the version the client last saw."""
    user_id = actor_id(user)
    if item_id not in visit_item_ids(visit):
        raise ServiceError(_l("This item is not in the checklist of this visit."))
    item = session.get(ChecklistItem, item_id)
    if data.rating is not None and data.rating not in RATINGS:
        raise ServiceError(_l("Unknown rating."))
    if len(data.missing_note) > MAX_NOTE or len(data.improve_note) > MAX_NOTE:
        raise ServiceError(_l("A note is too long."))
    value = clean_value(item, data.value)
    # Only measurements need the facility type's norms: other saves skip two queries.
    norms = (visit.facility.facility_type.norms or {}) if item.answer_type == "measurement" else {}
    evaluation = evaluate(item, value, norms)
    answer = session.scalar(select(Answer).where(Answer.visit_id == visit.id, Answer.item_id == item_id))
    fields = {"rating": data.rating, "value": value, "missing_note": data.missing_note.strip(),
              "improve_note": data.improve_note.strip()}
    if answer is None:
        if base_version != 0:
            raise ServiceError(_l("This answer no longer exists; reload the page."))
        answer = Answer(visit_id=visit.id, item_id=item_id, evaluation=evaluation, created_by_id=user_id,
                        updated_by_id=user_id, answered_at=utcnow(), **fields)
        session.add(answer)
    else:
        unchanged = all(getattr(answer, k) == v for k, v in fields.items())
        if answer.version != base_version:
            if unchanged:
                return answer  # a retried save that already landed
            raise AnswerConflict(answer)
        if unchanged:
            return answer
        for name, new in fields.items():
            setattr(answer, name, new)
        answer.evaluation = evaluation
        answer.updated_by_id = user_id
        answer.answered_at = utcnow()
    session.commit()
    return answer


def answers_by_item(session: Session, visit: Visit) -> dict[int, Answer]:
    return {a.item_id: a for a in session.scalars(select(Answer).where(Answer.visit_id == visit.id))}


def answer_payload(answer: Answer | None) -> dict[str, Any]:
    """What the checklist page's script needs to know of a saved answer."""
    if answer is None:
        return {"version": 0}
    return {"version": answer.version, "rating": answer.rating, "value": answer.value,
            "missing_note": answer.missing_note, "improve_note": answer.improve_note,
            "evaluation": answer.evaluation, "answered_at": answer.answered_at.isoformat() + "Z",
            "answered_by": answer.updated_by_id}


def is_answered(answer: Answer | None) -> bool:
    return answer is not None and (answer.rating is not None or answer.value is not None)
