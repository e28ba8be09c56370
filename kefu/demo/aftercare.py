"""The follow-up half of the demo company (SPEC §3.4, §3.5): the visit team, customer owners
and their first contacts, the return visits the ticket history earned, the ratings customers
left through the confirmation link, this month's member visit plan and a satisfaction survey
with its answers.

Past visits are written in bulk with back-dated times, following the rules the visit
services apply (the deadline from ``visit_due``, calls only outside quiet hours, a retry at
least two hours later, closed as unreachable after the last allowed call). What happens today
(the member plan, the survey answers and their follow-up tickets) goes through the services.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from kefu.core.errors import ValidationFailed
from kefu.customers.models import Customer, CustomerEvent, CustomerPhone, Tag
from kefu.org.models import Role, Site, Staff
from kefu.surveys.models import Invitation, Response
from kefu.surveys.services import batch_create, parse_items, questionnaire_create, response_submit
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Ticket, TicketEvent, WarningCard
from kefu.visits.models import Visit, VisitAttempt, VisitCampaign, VisitRules
from kefu.visits.services import (
    campaign_create,
    member_tags,
    overdue_note,
    visit_create_for_ticket,
    visit_due,
    windows_for,
)

from . import data
from .builders import Client

RESULTS = (Visit.Result.SATISFIED, Visit.Result.ORDINARY, Visit.Result.DISSATISFIED)
RESULT_WEIGHTS = (80, 14, 6)
VISIT_NOTES = {
    Visit.Result.SATISFIED: (
        "客户表示满意，维修师傅很专业",
        "业主对处理结果满意，感谢物业",
        "客户满意，无其他问题",
        "已确认问题解决，客户满意",
    ),
    Visit.Result.ORDINARY: (
        "问题已解决，但等待时间较长",
        "客户认为处理一般，希望上门前先电话联系",
        "处理完成，客户提出清理现场不够干净",
    ),
}
VISIT_REASONS = (
    "维修后问题反复出现",
    "师傅上门迟到，未提前告知",
    "处理结果与承诺不符",
    "现场遗留垃圾未清理",
    "服务态度生硬",
)
RATING_WEIGHTS = {5: 58, 4: 27, 3: 9, 2: 4, 1: 2}
RATING_COMMENTS = {
    5: ("非常满意，师傅很负责", "响应很快，点赞", ""),
    4: ("总体不错", "处理及时", ""),
    3: ("一般，等了比较久", ""),
    2: ("上门时间一拖再拖",),
    1: ("问题没有彻底解决",),
}
SURVEY_ITEMS = """满意度|物业服务总体满意度|客服部|权重3
满意度|客服人员的服务态度|客服部|权重2
满意度|报修维修的及时性|工程部|权重2
满意度|维修质量|工程部|权重2
满意度|公共区域保洁|环境部|权重1
满意度|绿化养护|环境部|权重1
满意度|安全秩序与停车管理|秩序维护部|权重1
多选|您最希望改进的方面|||维修速度;保洁;停车;安保;服务态度;社区活动
填空|其他意见和建议"""
# Per scale item (positions 1–7): the chances of 5, 4, 3, 2, 1. Repairs are slower than the
# rest, as in most estates.
SCALE_WEIGHTS = {
    1: (46, 36, 13, 3, 2),
    2: (55, 32, 10, 2, 1),
    3: (36, 34, 20, 7, 3),
    4: (44, 36, 14, 4, 2),
    5: (50, 35, 11, 3, 1),
    6: (48, 36, 12, 3, 1),
    7: (40, 36, 17, 5, 2),
}
SURVEY_COMMENTS = (
    "希望地下车库照明再亮一些",
    "电梯维修能否提前公告",
    "快递柜太少，经常放不下",
    "小区绿化很好，继续保持",
    "希望晚上加强巡逻",
    "垃圾分类点有异味，请增加清运次数",
)


@dataclass
class Aftercare:
    owned: int = 0
    first_contacts_overdue: int = 0
    visits_done: int = 0
    visits_unreachable: int = 0
    visits_late: int = 0
    visits_open: int = 0
    ratings: int = 0
    plan_visits: int = 0
    responses: int = 0
    followups: int = 0


def build_aftercare(
    rng: random.Random,
    *,
    anchor: datetime,
    sites: dict[str, Site],
    staff: dict[str, Staff],
    clients: dict[str, list[Client]],
    lap: Callable[[str], None] = lambda label: None,
) -> Aftercare:
    done = Aftercare()
    teams = visit_teams(sites, staff)
    done.owned, done.first_contacts_overdue = assign_owners(rng, anchor, sites, staff, clients)
    lap(f"客户专员（{done.owned} 位客户，首次联系超期 {done.first_contacts_overdue} 位）")
    past_visits(rng, anchor, sites, teams, done)
    lap(
        f"历史回访（{done.visits_done + done.visits_unreachable} 次，超期 {done.visits_late}，"
        f"无法联系 {done.visits_unreachable}）"
    )
    done.ratings = ratings(rng, sites)
    done.plan_visits = member_plan(rng, anchor, sites["CH"], supervisor(staff, sites["CH"]))
    lap(f"服务评分 {done.ratings} 条，会员定期回访 {done.plan_visits} 户")
    survey(rng, anchor, sites, staff, done)
    lap(f"满意度调查（答卷 {done.responses} 份，跟进工单 {done.followups} 张）")
    return done


def agents_of(staff: dict[str, Staff], site: Site) -> list[Staff]:
    return sorted((s for s in staff.values() if s.role == Role.AGENT and site in s.sites.all()), key=lambda s: s.id)


def supervisor(staff: dict[str, Staff], site: Site) -> Staff:
    return next(s for s in staff.values() if s.role == Role.SUPERVISOR and site in s.sites.all())


def visit_teams(sites: dict[str, Site], staff: dict[str, Staff]) -> dict[int, list[Staff]]:
    """Each site's rules with its agents as the visit team (回访组)."""
    teams = {}
    for site in sites.values():
        rules = VisitRules.objects.create(site=site)
        teams[site.id] = agents_of(staff, site)
        rules.team.set(teams[site.id])
    return teams


def assign_owners(
    rng: random.Random,
    anchor: datetime,
    sites: dict[str, Site],
    staff: dict[str, Staff],
    clients: dict[str, list[Client]],
) -> tuple[int, int]:
    """Every customer has an agent (balanced by count). Most were given out months ago and
    contacted within the week; a few are new this fortnight, some of them not called yet."""
    changed: list[Customer] = []
    events: list[CustomerEvent] = []
    overdue = 0
    for code, rows in clients.items():
        agents, boss = agents_of(staff, sites[code]), supervisor(staff, sites[code])
        for index, client in enumerate(rows):
            customer = client.customer
            owner = agents[index % len(agents)]
            recent = rng.random() < 0.03
            days = rng.uniform(0.5, 12) if recent else rng.uniform(40, 400)
            since = max(customer.created_at + timedelta(hours=2), anchor - timedelta(days=days)).replace(microsecond=0)
            contacted: datetime | None = since + timedelta(hours=rng.uniform(2, 150))
            if (recent and rng.random() < 0.5) or (contacted is not None and contacted >= anchor):
                contacted = None
            customer.owner, customer.owner_since = owner, since
            customer.first_contact_due = since + timedelta(days=7)
            customer.first_contacted_at = contacted
            # A first contact overdue before today was warned when it fell due; nobody is
            # told again of the past.
            late = contacted is None and customer.first_contact_due < anchor
            customer.first_contact_warned_at = customer.first_contact_due if late else None
            overdue += late
            changed.append(customer)
            events.append(
                CustomerEvent(
                    customer=customer, actor=boss, at=since, type="assigned", data={"from": "", "to": owner.name}
                )
            )
            if contacted is not None:
                channel = rng.choice(("phone", "phone", "wechat", "visit"))
                note = rng.choice(("自我介绍并留下联系方式", "介绍物业服务和报修方式", "了解客户需求"))
                events.append(
                    CustomerEvent(
                        customer=customer,
                        actor=owner,
                        at=contacted,
                        type="contacted",
                        data={"channel": channel, "note": note},
                    )
                )
    fields = ["owner", "owner_since", "first_contact_due", "first_contacted_at", "first_contact_warned_at"]
    Customer.objects.bulk_update(changed, fields, batch_size=500)
    CustomerEvent.objects.bulk_create(events, batch_size=1000)
    return len(changed), overdue


def past_visits(
    rng: random.Random, anchor: datetime, sites: dict[str, Site], teams: dict[int, list[Staff]], done: Aftercare
) -> None:
    """A return visit for every closed repair and complaint: most made within the deadline,
    some late, some never reached. A visit whose calls would fall after now is still open."""
    rules = {site.id: VisitRules.objects.get(site=site) for site in sites.values()}
    candidates = (
        Ticket.objects.filter(site__in=sites.values(), status=Status.CLOSED, completed_at__isnull=False)
        .select_related("customer")
        .order_by("completed_at", "id")
    )
    closed = [t for t in candidates if t.kind in (rules[t.site_id].kinds or [])]
    phones = dict(
        CustomerPhone.objects.filter(customer_id__in={t.customer_id for t in closed}, is_primary=True).values_list(
            "customer_id", "number"
        )
    )
    turn: Counter[int] = Counter()
    planned: list[tuple[Ticket, Visit, list[tuple[datetime, str]]]] = []
    for ticket in closed:
        phone = ticket.contact_phone or phones.get(ticket.customer_id or 0, "")
        if not phone or ticket.completed_at is None:
            continue
        site_rules = rules[ticket.site_id]
        windows = windows_for(ticket.customer.visit_hours if ticket.customer else "", site_rules)
        due = visit_due(ticket=ticket, start=ticket.completed_at, windows=windows)
        team = teams[ticket.site_id]
        visitor = team[turn[ticket.site_id] % len(team)]
        late = rng.random() < 0.1
        start = (
            due + timedelta(hours=rng.uniform(1, 30))
            if late
            else ticket.completed_at + timedelta(hours=rng.uniform(1, 40))
        )
        calls = [windows.next_allowed(start).replace(microsecond=0)]
        unreachable = rng.random() < 0.05
        tries = site_rules.max_attempts if unreachable else (2 if rng.random() < 0.2 else 1)
        while len(calls) < tries:
            gap = timedelta(minutes=site_rules.retry_minutes) + timedelta(hours=rng.uniform(0, 20))
            calls.append(windows.next_allowed(calls[-1] + gap).replace(microsecond=0))
        result = rng.choices(RESULTS, weights=RESULT_WEIGHTS)[0]
        if calls[-1] >= anchor - timedelta(minutes=5):
            # Not called yet (or not finished): the visit is still to be made.
            if visit_create_for_ticket(ticket=ticket, at=ticket.completed_at) is not None:
                done.visits_open += 1
            continue
        turn[ticket.site_id] += 1
        visit = Visit(
            site_id=ticket.site_id,
            ticket=ticket,
            customer=ticket.customer,
            contact_name=ticket.contact_name or (ticket.customer.name if ticket.customer else ""),
            contact_phone=phone,
            assignee=visitor,
            created_at=ticket.completed_at,
            due_at=due,
            attempts=len(calls),
            done_at=calls[-1],
            done_by=visitor,
            warned_at=due if calls[-1] > due else None,
        )
        outcomes = [VisitAttempt.Outcome.UNREACHABLE] * (len(calls) - 1)
        if unreachable:
            visit.status = Visit.Status.UNREACHABLE
            outcomes.append(VisitAttempt.Outcome.UNREACHABLE)
            done.visits_unreachable += 1
        else:
            visit.status, visit.result = Visit.Status.DONE, result
            if result == Visit.Result.DISSATISFIED:
                visit.reason = rng.choice(VISIT_REASONS)
            else:
                visit.notes = rng.choice(VISIT_NOTES[result])
            outcomes.append(VisitAttempt.Outcome.REACHED)
            done.visits_done += 1
        planned.append((ticket, visit, list(zip(calls, outcomes, strict=True))))
    Visit.objects.bulk_create([visit for _, visit, _ in planned], batch_size=500)
    # A visit made after its deadline earned its visitor the yellow card the overdue sweep
    # gives, dated when it fell due.
    WarningCard.objects.bulk_create(
        [
            WarningCard(
                key=f"visit:{visit.pk}",
                site_id=visit.site_id,
                ticket=ticket,
                staff=visit.assignee,
                color=WarningCard.Color.YELLOW,
                rule=WarningCard.Rule.VISIT,
                deadline=visit.due_at,
                issued_at=visit.due_at,
                note=overdue_note(visit),
            )
            for ticket, visit, _ in planned
            if visit.warned_at is not None
        ],
        batch_size=500,
    )
    done.visits_late = sum(1 for _, visit, _ in planned if visit.warned_at is not None)
    attempts, events = [], []
    for ticket, visit, made in planned:
        assert visit.assignee is not None
        events.append(
            TicketEvent(
                ticket=ticket,
                type="visit_planned",
                at=visit.created_at,
                data={"visit": visit.pk, "assignee": visit.assignee.name, "due": visit.due_at.isoformat()},
            )
        )
        for number, (at, outcome) in enumerate(made, start=1):
            note = (visit.notes or visit.reason) if outcome == VisitAttempt.Outcome.REACHED else ""
            attempts.append(VisitAttempt(visit=visit, by=visit.assignee, at=at, outcome=outcome, note=note))
            if outcome == VisitAttempt.Outcome.UNREACHABLE:
                tried = {"visit": visit.pk, "attempts": number, "closed": number == len(made)}
                events.append(
                    TicketEvent(ticket=ticket, actor=visit.assignee, type="visit_unreachable", at=at, data=tried)
                )
            else:
                label = str(Visit.Result(visit.result).label)
                said = {"visit": visit.pk, "result": visit.result, "label": label}
                events.append(
                    TicketEvent(ticket=ticket, actor=visit.assignee, type="visit_done", at=at, note=note, data=said)
                )
    VisitAttempt.objects.bulk_create(attempts, batch_size=1000)
    TicketEvent.objects.bulk_create(events, batch_size=1000)


def ratings(rng: random.Random, sites: dict[str, Site]) -> int:
    """Most customers who confirmed through the link also gave the service stars."""
    confirmed = Ticket.objects.filter(
        site__in=sites.values(), confirm_method="link", confirmed_at__isnull=False
    ).order_by("id")
    rated = []
    for ticket in confirmed:
        if rng.random() >= 0.8:
            continue
        stars = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        ticket.rating, ticket.rating_comment = stars, rng.choice(RATING_COMMENTS[stars])
        ticket.rated_at = ticket.confirmed_at
        ticket.rated_staff_id = ticket.assignee_id or ticket.first_responder_id
        rated.append(ticket)
    Ticket.objects.bulk_update(rated, ["rating", "rating_comment", "rated_at", "rated_staff"], batch_size=500)
    return len(rated)


def member_plan(rng: random.Random, anchor: datetime, site: Site, boss: Staff) -> int:
    """This month's visits to members and VIPs (定期回访), through the service; those made so
    far this month are back-dated into it."""
    today = timezone.localtime(anchor).date()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    try:
        campaign = campaign_create(
            site=site,
            name=f"{first:%Y年%m月}会员定期回访",
            kind=VisitCampaign.Kind.PERIODIC,
            start=first,
            end=last,
            actor=boss,
            tags=member_tags(site.id),
        )
    except ValidationFailed:
        return 0  # no members in a demo this small
    opened = datetime.combine(first, time(9, 0), tzinfo=timezone.get_current_timezone())
    VisitCampaign.objects.filter(pk=campaign.pk).update(created_at=opened)
    visits = list(campaign.visits.select_related("assignee", "customer").order_by("id"))
    rules = VisitRules.objects.get(site=site)
    share = min(0.9, (today - first).days / max((last - first).days, 1) + 0.1)
    attempts = []
    for visit in visits:
        visit.created_at = opened
        if visit.assignee is None or rng.random() >= share:
            continue
        windows = windows_for(visit.customer.visit_hours if visit.customer else "", rules)
        at = windows.next_allowed(opened + (anchor - opened) * rng.uniform(0.05, 0.95))
        if at >= anchor:
            continue
        visit.status = Visit.Status.DONE
        visit.result = rng.choices(RESULTS, weights=(85, 12, 3))[0]
        visit.notes = "会员例行回访，" + rng.choice(("客户对物业服务满意", "客户提出车位紧张", "客户反映一切正常"))
        if visit.result == Visit.Result.DISSATISFIED:
            visit.reason = rng.choice(VISIT_REASONS)
        visit.attempts, visit.done_at, visit.done_by = 1, at.replace(microsecond=0), visit.assignee
        visit.next_try_at = None
        attempts.append(
            VisitAttempt(visit=visit, by=visit.assignee, at=visit.done_at, outcome="reached", note=visit.notes)
        )
    fields = ["created_at", "status", "result", "notes", "reason", "attempts", "done_at", "done_by", "next_try_at"]
    Visit.objects.bulk_update(visits, fields, batch_size=500)
    VisitAttempt.objects.bulk_create(attempts, batch_size=1000)
    return len(visits)


def survey(
    rng: random.Random, anchor: datetime, sites: dict[str, Site], staff: dict[str, Staff], done: Aftercare
) -> None:
    """This year's owner satisfaction survey, handed out at both sites three weeks ago and
    still open: paper forms typed in by the agents, the rest answered through the link.
    Every low answer opens its follow-up ticket, as the service does."""
    today = timezone.localtime(anchor).date()
    estate, office = sites[data.RESIDENTIAL.code], sites[data.OFFICE.code]
    questionnaire = questionnaire_create(
        title=f"{today.year}年业主（租户）满意度调查",
        intro="尊敬的业主/租户：为了不断改进服务，请您抽出几分钟填写本问卷。谢谢！",
        items=parse_items(SURVEY_ITEMS),
        actor=staff["director"],
    )
    starts, ends = today - timedelta(days=20), today + timedelta(days=10)
    handed_out = [
        (estate, "1–2 号楼", {"target": "building", "buildings": ["1", "2"]}),
        (office, "大客户", {"target": "tag", "tag": Tag.objects.filter(name="大客户").first()}),
    ]
    batches = []
    for site, name, target in handed_out:
        try:
            batches.append(
                batch_create(
                    questionnaire=questionnaire,
                    site=site,
                    name=name,
                    starts_on=starts,
                    ends_on=ends,
                    actor=supervisor(staff, site),
                    **target,  # type: ignore[arg-type]
                )
            )
        except ValidationFailed:
            continue  # a demo too small to have anyone there
    opened = datetime.combine(starts, time(9, 0), tzinfo=timezone.get_current_timezone())
    for batch in batches:
        typists = agents_of(staff, batch.site)
        for invitation in Invitation.objects.filter(batch=batch).select_related("batch").order_by("id"):
            if rng.random() >= 0.65:
                continue
            answers: dict[int, list[str]] = {
                position: [str(rng.choices((5, 4, 3, 2, 1), weights=weights)[0])]
                for position, weights in SCALE_WEIGHTS.items()
            }
            answers[8] = sorted({str(rng.randint(1, 6)) for _ in range(rng.choice((1, 1, 2)))})
            if rng.random() < 0.3:
                answers[9] = [rng.choice(SURVEY_COMMENTS)]
            paper = rng.random() < 0.6
            response = response_submit(
                invitation=invitation,
                answers=answers,
                channel=Response.Channel.PAPER if paper else Response.Channel.LINK,
                actor=rng.choice(typists) if paper else None,
            )
            at = (opened + (anchor - opened) * rng.uniform(0.02, 0.98)).replace(microsecond=0)
            Response.objects.filter(pk=response.pk).update(submitted_at=at)
            Invitation.objects.filter(pk=invitation.pk).update(used_at=at)
            done.responses += 1
            done.followups += sum(1 for a in response.answers.all() if a.followup_ticket_id)
