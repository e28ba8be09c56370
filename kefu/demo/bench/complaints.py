"""The complaint's six steps (``kefu.tickets.services.complaints``) as ``Life`` carries them
out: each moves the ticket and fills in what the step records on the ``Complaint`` row and
its proposals."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kefu.tickets.models import Assignment, ComplaintProposal
from kefu.tickets.services.complaints import JUDGED_DISPATCH_REASON, proposals_note

if TYPE_CHECKING:
    from .life import Life
    from .people import Member


def _judge(life: Life, at: int, payload: tuple[str, bool]) -> None:
    note, send = payload
    c = life.complaint
    assert c is not None
    life.move("judge", at, life.desk, note=note, data='{"valid": true}')
    c.update(valid=True, judgment=note, judged_by_id=life.desk.id, judged_at=at)
    if send and life.leaf.department_id is not None:
        life.hand_over(
            at, life.desk, life.leaf.department_id, None, Assignment.Mode.MANUAL.value, str(JUDGED_DISPATCH_REASON)
        )


def _dismiss(life: Life, at: int, note: str) -> None:
    c = life.complaint
    assert c is not None
    life.move("dismiss", at, life.desk, note=note, public=True, data='{"valid": false}')
    c.update(valid=False, judgment=note, judged_by_id=life.desk.id, judged_at=at)


def _worker(life: Life) -> Member:
    t = life.t
    return life._member(t["assignee_id"]) if t["assignee_id"] else life.supervisor


def _investigate(life: Life, at: int, note: str) -> None:
    c, t, rng = life.complaint, life.t, life.rng
    assert c is not None
    department = t["department_id"] or life.leaf.department_id
    people = life.site.by_department.get(department or 0, [])
    person = rng.choice(people) if people and rng.random() < 0.5 else None
    data = {
        "responsible_department": life.g.department_names.get(department or 0, ""),
        "responsible_person": person.name if person else "",
    }
    actor = _worker(life)
    life.move("investigate", at, actor, note=note, data=json.dumps(data))
    c.update(cause=note, responsible_department_id=department, responsible_person_id=person.id if person else None,
             investigated_by_id=actor.id, investigated_at=at)  # fmt: skip


def _propose(life: Life, at: int, offered: list[str]) -> None:
    c = life.complaint
    assert c is not None
    c["round"] += 1
    actor = _worker(life)
    data = json.dumps({"round": c["round"], "count": len(offered)})
    life.move("propose", at, actor, note=proposals_note(offered), data=data)
    for text in offered:
        life.proposals.append(
            {"id": life.g.next_id(ComplaintProposal), "complaint_id": c["ticket_id"], "round": c["round"],
             "text": text, "state": "proposed", "proposed_by_id": actor.id, "proposed_at": at,
             "decided_by_id": None, "decided_at": None, "decision_note": ""}
        )  # fmt: skip


def _current(life: Life) -> list[dict[str, Any]]:
    c = life.complaint
    assert c is not None
    return [p for p in life.proposals if p["round"] == c["round"] and p["state"] == "proposed"]


def _send_back(life: Life, at: int, note: str) -> None:
    life.move("send_back", at, life.supervisor, note=note)
    for p in _current(life):
        p.update(state="returned", decision_note=note, decided_by_id=life.supervisor.id, decided_at=at)


def _approve(life: Life, at: int, payload: tuple[str, int]) -> None:
    instruction, choice = payload
    c = life.complaint
    assert c is not None
    current = _current(life)
    chosen = current[choice % len(current)]
    data = json.dumps({"proposal": chosen["text"][:200], "round": chosen["round"]})
    life.move("approve", at, life.supervisor, note=instruction, data=data)
    for p in current:
        p.update(state="not_chosen", decided_by_id=life.supervisor.id, decided_at=at)
    chosen.update(state="chosen", decision_note=instruction)
    c.update(chosen_id=chosen["id"], instruction=instruction, approved_by_id=life.supervisor.id, approved_at=at)


def _implement(life: Life, at: int, payload: tuple[str, str | None, str]) -> None:
    penalty, amount, method = payload
    c = life.complaint
    assert c is not None
    actor = _worker(life)
    note = "已按批示方案落实完毕，并已告知客户处理结果"
    life.move("implement", at, actor, note=note, public=True,
              data=json.dumps({"penalty": penalty, "penalty_amount": amount}))  # fmt: skip
    c.update(implementation=note, penalty=penalty, penalty_amount=amount, notify_method=method,
             customer_notified_at=at, implemented_by_id=actor.id, implemented_at=at)  # fmt: skip
    life.plan_visit(at)


def _refuse(life: Life, at: int, note: str) -> None:
    c = life.complaint
    assert c is not None
    life.move("reject", at, life.first, note=note)
    for p in life.proposals:
        if p["id"] == c["chosen_id"]:
            p.update(state="refused", decision_note=note)
    c["refusals"] += 1


def _summarize(life: Life, at: int, payload: tuple[str, str]) -> None:
    root, improvement = payload
    c = life.complaint
    assert c is not None
    life.move("summarize", at, life.supervisor, note=improvement,
              data=json.dumps({"classification": life.leaf.path}))  # fmt: skip
    c.update(classification_id=life.leaf.id, root_cause=root, improvement=improvement,
             summarized_by_id=life.supervisor.id, summarized_at=at)  # fmt: skip


STEPS: dict[str, Any] = {
    "judge": _judge, "dismiss": _dismiss, "investigate": _investigate, "propose": _propose, "send_back": _send_back,
    "approve": _approve, "implement": _implement, "reject": _refuse, "summarize": _summarize,
}  # fmt: skip
