"""The year's satisfaction surveys: the demo's questionnaire, handed out at every site twice
(mid-year and at the end of the year) to about a fifth of its customers each time, with
the answers of those who replied, on paper or through the link.

The questionnaire goes through the service; invitations, responses and answers are written
in bulk. Low answers are kept as answered; the follow-up tickets the service would open for
them are not made (the seed's ticket count is exact).
"""

from __future__ import annotations

import base64
import json
import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from kefu.org.models import Role, Staff
from kefu.surveys.models import SCALE_LABELS, Answer, Batch, Invitation, Response
from kefu.surveys.services import parse_items, questionnaire_create, token_digest

from ..aftercare import SCALE_WEIGHTS, SURVEY_COMMENTS, SURVEY_ITEMS
from .people import Place
from .sink import Row, Sink


def build(rng: random.Random, sink: Sink, places: list[Place], anchor: datetime) -> dict[str, int]:
    director = Staff.objects.get(pk=next(m.id for m in places[0].staff if m.role == Role.DIRECTOR))
    today = timezone.localtime(anchor).date()
    questionnaire = questionnaire_create(
        title=f"{today.year}年业主（租户）满意度调查",
        intro="尊敬的业主/租户：为了不断改进服务，请您抽出几分钟填写本问卷。谢谢！",
        items=parse_items(SURVEY_ITEMS),
        actor=director,
    )
    items = list(questionnaire.items.order_by("position"))
    text = sink.text
    invitation_table = sink.table(Invitation, ["id", "batch_id", "customer_id", "token", "digest", "expires_at",
                                               "used_at"])  # fmt: skip
    response_table = sink.table(Response, ["id", "invitation_id", "batch_id", "customer_id", "channel",
                                           "entered_by_id", "submitted_at"])  # fmt: skip
    answer_table = sink.table(Answer, ["id", "response_id", "item_id", "score", "choices", "value",
                                       "followup_ticket_id"])  # fmt: skip
    ids = {model: sink.next_id(model) for model in (Invitation, Response, Answer)}
    counts = {invitation_table.name: 0, response_table.name: 0, answer_table.name: 0}
    rounds = [("年中", today - timedelta(days=200)), ("年终", today - timedelta(days=45))]
    for place in places:
        supervisor = next(m for m in place.staff if m.role == Role.SUPERVISOR)
        typists = [m for m in place.staff if m.role == Role.AGENT]
        for label, starts in rounds:
            ends = starts + timedelta(days=30)
            chosen = [p for p in place.customers if rng.random() < 0.2]
            if not chosen:
                continue
            batch = Batch.objects.create(
                questionnaire=questionnaire, site_id=place.id, name=f"{starts.year}年{label}满意度调查",
                starts_on=starts, ends_on=ends, target=Batch.Target.CUSTOMERS,
                target_note=f"指定客户 {len(chosen)} 位", handed_out=len(chosen), created_by_id=supervisor.id,
            )  # fmt: skip
            Batch.objects.filter(pk=batch.pk).update(created_at=_moment(starts, 9))
            opened, expires = int(_moment(starts, 9).timestamp()), int(_moment(ends, 23, 59, 59).timestamp())
            invitations: list[Row] = []
            responses: list[Row] = []
            answers: list[Row] = []
            for person in chosen:
                token = base64.urlsafe_b64encode(rng.getrandbits(192).to_bytes(24, "big")).decode()
                invitation_id = ids[Invitation]
                ids[Invitation] += 1
                replied = rng.random() < 0.62
                at = opened + rng.randrange(expires - opened) if replied else None
                invitations.append(
                    (invitation_id, batch.pk, person.id, token, token_digest(token), text(expires), text.opt(at))
                )
                if at is None:
                    continue
                response_id = ids[Response]
                ids[Response] += 1
                paper = rng.random() < 0.6
                entered = rng.choice(typists).id if paper and typists else None
                responses.append(
                    (response_id, invitation_id, batch.pk, person.id, "paper" if paper else "link", entered, text(at))
                )
                for item in items:
                    row = _answer(rng, item.position, item.kind, item.choices)
                    if row is None:
                        continue
                    score, picked, value = row
                    answers.append((ids[Answer], response_id, item.pk, score, json.dumps(picked), value, None))
                    ids[Answer] += 1
            sink.write(invitation_table, invitations)
            sink.write(response_table, responses)
            sink.write(answer_table, answers)
            counts[invitation_table.name] += len(invitations)
            counts[response_table.name] += len(responses)
            counts[answer_table.name] += len(answers)
    counts[Batch._meta.db_table] = Batch.objects.filter(questionnaire=questionnaire).count()
    return counts


def _answer(
    rng: random.Random, position: int, kind: str, choices: list[tuple[int, str]]
) -> tuple[int | None, list[int], str] | None:
    """One answer as ``validate_answers`` stores it: a scale's score and label, the chosen
    options of the multiple choice, a comment now and then."""
    if kind == "scale":
        score = rng.choices((5, 4, 3, 2, 1), weights=SCALE_WEIGHTS.get(position, (50, 30, 12, 5, 3)))[0]
        return score, [score], SCALE_LABELS[score]
    if kind == "multiple":
        labels = dict(choices)
        picked = sorted({rng.randint(1, len(labels)) for _ in range(rng.choice((1, 1, 2)))})
        return None, picked, "、".join(labels[n] for n in picked)
    if kind == "text":
        return (None, [], rng.choice(SURVEY_COMMENTS)) if rng.random() < 0.3 else None
    return None


def _moment(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))
