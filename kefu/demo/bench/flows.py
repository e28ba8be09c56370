"""What happens to one ticket: its steps, decided with the seeded generator before any of
them is carried out (``tickets.Life`` carries them out).

A step is ``(action, minutes after the step before, payload)``. The path follows the life
cycle of its kind (``kefu.tickets.lifecycle``) and stops at the ticket's target: about one
ticket in five is still open at the anchor, more of the recent ones than of the old, and
the open ones stand at every stage of the life cycle. Steps that would fall after the
anchor are simply not carried out, so the youngest tickets stop early by themselves.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from kefu.tickets.lifecycle import Kind, Status
from kefu.tickets.models import Urgency

from .. import texts
from . import words

Step = tuple[str, float, Any]

# The mix of a centre's year: repairs most, then inquiries, complaints, suggestions, help
# and praise.
KIND_MIX: dict[str, float] = {
    Kind.REPAIR: 45,
    Kind.INQUIRY: 24,
    Kind.COMPLAINT: 12,
    Kind.SUGGESTION: 8,
    Kind.HELP: 6,
    Kind.PRAISE: 5,
}
# Faster hands for more urgent tickets (the demo's pace).
PACE: dict[str, float] = {Urgency.LOW: 1.0, Urgency.NORMAL: 0.6, Urgency.HIGH: 0.25, Urgency.CRITICAL: 0.12}

S = Status
OPEN_STAGES = (S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.SUSPENDED, S.PENDING_CONFIRM, S.RESOLVED,
               S.VISITED)  # fmt: skip
# Where the open tickets stand, by age: the young ones early in the life cycle, the old
# ones waiting for the customer, a signature or the visit.
OPEN_WEIGHTS: list[tuple[float, tuple[float, ...]]] = [
    (1, (12, 20, 14, 22, 4, 18, 8, 2)),
    (7, (5, 10, 8, 18, 10, 24, 18, 7)),
    (math.inf, (3, 5, 4, 10, 18, 25, 25, 10)),
]
CANCELLED_SHARE = 0.035


def open_share(age_days: float) -> float:
    """The chance that a ticket this old is still open: nearly all of today's, two in five of
    last month's, one in nine of last year's; about 20 % over the year."""
    return min(0.97, 0.107 + 0.55 * math.exp(-age_days / 60) + 0.3 * math.exp(-age_days / 3))


def target(rng: random.Random, age_days: float) -> str:
    if rng.random() < open_share(age_days):
        weights = next(w for limit, w in OPEN_WEIGHTS if age_days < limit)
        return rng.choices(OPEN_STAGES, weights=weights)[0]
    return S.CANCELLED if rng.random() < CANCELLED_SHARE else S.CLOSED


@dataclass
class Shape:
    """What a ticket is, as its plan needs it."""

    kind: str
    flow: str  # field, desk, fcr, praise, complaint
    urgency: str
    target: str
    visited: bool  # return visits are made for this kind at this site
    repair: bool
    results: tuple[tuple[str, str], ...]
    answers: tuple[str, ...]
    paid: float
    resolve_minutes: int


def plan(rng: random.Random, shape: Shape) -> list[Step]:
    if shape.flow == "fcr":
        return []
    if shape.flow == "praise":
        return _praise(rng, shape)
    if shape.flow == "complaint":
        return _complaint(rng, shape)
    return _work(rng, shape, field=shape.flow == "field")


def _note(rng: random.Random) -> Step:
    public = rng.random() < 0.4
    pool = texts.NOTES_PUBLIC if public else texts.NOTES_INTERNAL
    return ("note", rng.uniform(3, 60), (public, rng.choice(pool).format(time=rng.choice(texts.TIMES))))


def _suspend(rng: random.Random, shape: Shape) -> Step:
    reasons = texts.SUSPEND_REASONS["repair" if shape.repair else "other"]
    return ("suspend", rng.uniform(10, 120), rng.choice(reasons))


def _confirm(rng: random.Random) -> Step:
    method = rng.choices(("phone", "onsite", "link"), weights=(55, 30, 15))[0]
    minutes = {"onsite": rng.uniform(3, 30), "phone": rng.uniform(30, 1440), "link": rng.uniform(60, 2880)}[method]
    return ("confirm", minutes, method)


def _outcome(rng: random.Random, target: str) -> str:
    """The return visit's outcome: reached (satisfied, ordinary, dissatisfied) or never."""
    if target == S.VISITED:
        return rng.choices(("satisfied", "ordinary"), weights=(85, 15))[0]
    return rng.choices(("satisfied", "ordinary", "dissatisfied", "unreachable"), weights=(80, 13, 3, 4))[0]


def _complete(rng: random.Random, shape: Shape, pace: float) -> Step:
    """The handler's work: mostly well within the limit, one in eight long (some of those
    late), and the repair report."""
    u = rng.uniform
    if rng.random() < 0.12:
        minutes = u(0.5, 2.2) * shape.resolve_minutes
    elif shape.repair:
        minutes = u(20, 240) * pace
    else:
        minutes = u(20, 600) * pace
    pool = shape.results or tuple((answer, "") for answer in shape.answers) or texts.RESULTS_GENERIC
    result, materials = rng.choice(pool)
    report: dict[str, Any] = {"note": result}
    if shape.repair:
        paid = rng.random() < shape.paid
        report.update(
            note="",
            work_notes=result,
            materials="" if materials == "无" else materials,
            work_hours=rng.choice(("0.50", "1.00", "1.50", "2.00", "3.00")),
            is_paid=paid,
            fee=rng.choice(("20.00", "30.00", "50.00", "80.00", "120.00", "150.00")) if paid else None,
        )
    return ("complete", minutes, report)


def _work(rng: random.Random, shape: Shape, *, field: bool) -> list[Step]:
    """Repairs and the field and desk work of inquiries, help and suggestions."""
    u, goal, pace = rng.uniform, shape.target, PACE[shape.urgency]
    steps: list[Step] = []
    if field:
        steps.append(("auto", 0, None))
    if goal == S.CANCELLED:
        if field and rng.random() < 0.5:
            steps.append(("accept", u(2, 40) * pace, rng.choice(words.ACCEPT_NOTES)))
        steps.append(("cancel", u(5, 600), rng.choice(texts.CANCEL_REASONS)))
        return steps
    if field:
        if goal in (S.RECEIVED, S.DISPATCHED):
            if rng.random() < 0.1:
                steps.append(("transfer", u(5, 90), rng.choice(texts.TRANSFER_REASONS)))
            return steps
        if rng.random() < 0.05:
            steps.append(("transfer", u(5, 90), rng.choice(texts.TRANSFER_REASONS)))
        late = rng.random() < 0.08
        steps.append(("accept", u(60, 240) if late else u(2, 30) * pace, rng.choice(words.ACCEPT_NOTES)))
        if goal == S.ACCEPTED:
            return steps
        if goal == S.SUSPENDED and rng.random() < 0.4:
            return [*steps, _suspend(rng, shape)]
        if shape.repair:
            steps.append(("arrive", u(10, 60) * pace, rng.choice(words.ARRIVE_NOTES)))
        else:
            steps.append(("start", u(5, 120) * pace, rng.choice(words.START_NOTES)))
    else:
        # At the desk the agent answers first ("已收到……"), then works it out.
        if rng.random() < 0.75:
            steps.append(
                ("note", u(2, 30) * pace, (True, rng.choice(texts.NOTES_PUBLIC).format(time=rng.choice(texts.TIMES))))
            )
        if goal in (S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS):
            return steps
    if rng.random() < 0.3:
        steps.append(_note(rng))
    if goal == S.IN_PROGRESS:
        return steps
    if goal == S.SUSPENDED:
        return [*steps, _suspend(rng, shape)]
    if rng.random() < 0.05:
        steps += [_suspend(rng, shape), ("resume", u(240, 2880), "")]
    steps.append(_complete(rng, shape, pace))
    if goal == S.PENDING_CONFIRM:
        return steps
    if rng.random() < 0.03:
        steps.append(("reject", u(60, 1440), rng.choice(texts.REJECT_REASONS)))
        steps.append(_complete(rng, shape, pace))
    steps.append(_confirm(rng))
    if goal == S.RESOLVED or (goal == S.VISITED and not shape.visited):
        return steps
    if shape.visited:
        outcome = _outcome(rng, goal)
        steps.append(("call", 0, outcome))
        if goal == S.VISITED:
            return steps
        if outcome == "dissatisfied":
            steps.append(("reopen", 0, None))
            steps.append(("dispatch", u(10, 240), words.REWORK_REASON))
            steps.append(("accept", u(2, 40) * pace, rng.choice(words.ACCEPT_NOTES)))
            steps.append(("arrive" if shape.repair else "start", u(10, 90) * pace, rng.choice(words.ARRIVE_NOTES)))
            steps.append(_complete(rng, shape, pace))
            steps.append(_confirm(rng))
            steps.append(("call", 0, "satisfied"))
    steps.append(("close", u(5, 2880), rng.choice(words.CLOSE_NOTES)))
    return steps


def _praise(rng: random.Random, shape: Shape) -> list[Step]:
    u, goal = rng.uniform, shape.target
    if goal == S.CANCELLED:
        return [("cancel", u(5, 600), rng.choice(texts.CANCEL_REASONS))]
    steps: list[Step] = []
    if goal == S.RECEIVED:
        return steps
    if goal == S.DISPATCHED or rng.random() < 0.6:
        steps.append(("dispatch", u(30, 600), "转达客户表扬"))
    if goal != S.CLOSED:
        return steps
    steps.append(("close", u(60, 2880), "已转达表扬，纳入员工考核加分"))
    return steps


def _complaint(rng: random.Random, shape: Shape) -> list[Step]:
    """The six steps (seed 002) with the detours real complaints take."""
    u, goal, pace = rng.uniform, shape.target, max(PACE[shape.urgency], 0.3)
    solutions = [result for result, _ in (shape.results or texts.RESULTS_GENERIC)]
    steps: list[Step] = []
    if goal == S.CANCELLED:
        if rng.random() < 0.5:
            steps.append(("judge", u(10, 240) * pace, (rng.choice(texts.JUDGMENTS), False)))
        steps.append(("cancel", u(5, 600), rng.choice(texts.CANCEL_REASONS)))
        return steps
    if goal == S.CLOSED and rng.random() < 0.08:
        return [("dismiss", u(20, 600) * pace, rng.choice(texts.DISMISSALS))]
    if goal == S.RECEIVED:
        return steps
    steps.append(("judge", u(10, 100) * pace, (rng.choice(texts.JUDGMENTS), rng.random() < 0.5)))
    if goal == S.DISPATCHED:  # 调查中
        return steps
    if goal == S.SUSPENDED:
        return [*steps, ("suspend", u(30, 240), rng.choice(texts.SUSPEND_REASONS["other"]))]
    if rng.random() < 0.05:
        steps += [("suspend", u(30, 240), rng.choice(texts.SUSPEND_REASONS["other"])), ("resume", u(240, 2880), "")]
    steps.append(("investigate", u(60, 1440) * pace, rng.choice(texts.CAUSES)))
    half = rng.random() < 0.5
    if goal == S.ACCEPTED and half:  # 方案拟定
        return steps

    def solve(minutes: float) -> None:
        offered = rng.sample(solutions, 2 if len(solutions) > 1 and rng.random() < 0.4 else 1)
        steps.append(("propose", minutes, offered))
        if rng.random() < 0.1:
            steps.append(("send_back", u(30, 480), rng.choice(texts.SEND_BACKS)))
            steps.append(("propose", u(60, 720), rng.sample(solutions, 1)))
        if goal == S.ACCEPTED:  # 待批示
            return
        steps.append(("approve", u(20, 480) * pace, (rng.choice(texts.INSTRUCTIONS), rng.randrange(2))))
        if goal == S.IN_PROGRESS:  # 方案实施
            return
        penalty = rng.choice(texts.PENALTIES) if rng.random() < 0.3 else ""
        amount = rng.choice(("50.00", "100.00", "200.00")) if penalty and rng.random() < 0.5 else None
        method = rng.choice(("phone", "onsite", "phone", "sms"))
        steps.append(("implement", u(60, 1440) * pace, (penalty, amount, method)))

    solve(u(60, 720) * pace)
    if goal in (S.ACCEPTED, S.IN_PROGRESS, S.PENDING_CONFIRM):
        return steps
    if rng.random() < 0.05:
        steps.append(("reject", u(60, 1440), rng.choice(texts.COMPLAINT_REFUSALS)))
        solve(u(60, 720))
    steps.append(_confirm(rng))
    if goal == S.RESOLVED and half:  # 待总结
        return steps
    summary = (rng.choice(texts.ROOT_CAUSES), rng.choice(texts.IMPROVEMENTS))
    steps.append(("summarize", u(60, 2880), summary))
    if goal == S.RESOLVED:
        return steps
    outcome = _outcome(rng, goal)
    steps.append(("call", 0, outcome))
    if goal == S.VISITED:
        return steps
    if outcome == "dissatisfied":
        steps.append(("reopen", 0, None))
        solve(u(60, 720))
        steps.append(_confirm(rng))
        steps.append(("summarize", u(60, 1440), (rng.choice(texts.ROOT_CAUSES), rng.choice(texts.IMPROVEMENTS))))
        steps.append(("call", 0, "satisfied"))
    steps.append(("close", u(5, 2880), rng.choice(words.CLOSE_NOTES)))
    return steps
