"""Appraisal periods: created by managers, computed from the data, ranked per role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.org.models import Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import site_ids_for
from kefu.tickets.models import WarningCard

from .models import Appraisal, Period, RewardPenalty, Scheme, Sheet, SheetItem, SheetTemplate
from .queries import APPRAISED, MANAGERS, figures_for, rules_applied, rules_for, sheet_template_in_use
from .scoring import KPIS, adjustments, combined, kpi_score, kpi_scores, to_points


def period_create(*, name: str, start: date | None, end: date | None, sites: Sequence[Site], actor: Staff) -> Period:
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以设立考核期"))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 50:
        errors["name"] = [_("请填写名称（不超过 50 字）")]
    if start is None or end is None:
        errors["end"] = [_("请填写开始和结束日期")]
    elif end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    elif (end - start).days > 366:
        errors["end"] = [_("一个考核期不能超过一年")]
    allowed = site_ids_for(actor)
    if not sites:
        errors["sites"] = [_("请选择项目")]
    elif any(site.id not in allowed for site in sites):
        errors["sites"] = [_("无权考核该项目")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert start is not None and end is not None
    with transaction.atomic():
        period = Period.objects.create(name=name, start=start, end=end, created_by=actor)
        period.sites.set(sites)
    return period


def period_compute(*, period: Period, actor: Staff | None = None) -> int:
    """(Re)compute every appraisal of the period from the data: the staff of its sites in an
    appraised role; scores, adjustments, the combined total and the rank within each role.
    A closed period is not recomputed."""
    if actor is not None and actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以计算考核结果"))
    if period.status == Period.Status.CLOSED:
        raise ValidationFailed(_("考核期已结束，不能重新计算"))
    site_ids = list(period.sites.values_list("id", flat=True))
    staff = list(Staff.objects.filter(sites__in=site_ids, role__in=APPRAISED, is_active=True).distinct().order_by("id"))
    figures = figures_for(staff_ids=[s.id for s in staff], site_ids=site_ids, start=period.start, end=period.end)
    rules = {role: rules_for(role) for role in {s.role for s in staff}}
    sheets = dict(Appraisal.objects.filter(period=period).values_list("staff_id", "sheet_score"))
    with transaction.atomic():
        for person in staff:
            r, f = rules[person.role], figures[person.id]
            scores = kpi_scores(f, r)
            score, adjust = kpi_score(scores, r), adjustments(f, r)
            sheet = sheets.get(person.id)
            Appraisal.objects.update_or_create(
                period=period,
                staff=person,
                defaults={
                    "role": person.role,
                    "kpis": {
                        **f,
                        "scores": {k: None if v is None else float(v) for k, v in scores.items()},
                        # The rules the scores were computed with: a scheme changed later
                        # reaches the period when it is computed again, not before.
                        "rules": asdict(r),
                    },
                    "kpi_score": score,
                    "adjustments": adjust,
                    "total": combined(score, sheet, adjust, r),
                    "signed_by": None,
                    "signed_at": None,
                },
            )
        Appraisal.objects.filter(period=period).exclude(staff__in=staff).delete()
        _rank(period)
        Period.objects.filter(pk=period.pk).update(computed_at=timezone.now())
    return len(staff)


def _rank(period: Period) -> None:
    """1 for the best total within each role; equal totals share a rank; no total, no rank."""
    rows = list(Appraisal.objects.filter(period=period).order_by("role", "-total", "staff_id"))
    previous: tuple[str, object] | None = None
    rank = position = 0
    for row in rows:
        if row.total is None:
            row.rank = None
            continue
        if previous is None or previous[0] != row.role:
            position = 0
        position += 1
        if previous is None or previous != (row.role, row.total):
            rank = position
        row.rank = rank
        previous = (row.role, row.total)
    Appraisal.objects.bulk_update(rows, ["rank"])


def may_judge(actor: Staff, appraisal: Appraisal) -> bool:
    """Who scores a person's sheets and signs their result off: the direct superior, or a
    manager or director of the period's sites; never oneself."""
    if appraisal.staff_id == actor.id:
        return False
    if appraisal.staff.superior_id == actor.id:
        return True
    sites = set(appraisal.period.sites.values_list("id", flat=True))
    return actor.role in MANAGERS and bool(sites & site_ids_for(actor))


def appraisal_sign(*, appraisal: Appraisal, actor: Staff) -> Appraisal:
    """签核: the person's superior, or a manager or director of the period's sites, confirms
    the result. Once signed it stays signed; recomputing the period clears it."""
    if appraisal.staff_id == actor.id:
        raise PermissionDenied(_("不能签核自己的考核结果"))
    if not may_judge(actor, appraisal):
        raise PermissionDenied(_("只有直属上级或经理可以签核"))
    if appraisal.total is None:
        raise ValidationFailed(_("尚无考核得分，不能签核"))
    Appraisal.objects.filter(pk=appraisal.pk, signed_at__isnull=True).update(signed_by=actor, signed_at=timezone.now())
    appraisal.refresh_from_db()
    return appraisal


# --- score sheets ---------------------------------------------------------------------------


def parse_sheet_items(text: str) -> list[tuple[str, str, int]]:
    """Items from a textarea, one a line: ``类别|评分项|满分`` (满分 may be left out: 5).
    Errors name the line."""
    items: list[tuple[str, str, int]] = []
    problems: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        section, item = [*parts, "", ""][:2]
        top = parts[2] if len(parts) > 2 and parts[2] else "5"
        if not section or not item or len(section) > 50 or len(item) > 200:
            problems.append(
                _("第 {n} 行：请按“类别|评分项|满分”填写（类别不超过 50 字，评分项不超过 200 字）").format(n=number)
            )
        elif not (top.isascii() and top.isdigit()) or len(top) > 3 or not 1 <= int(top) <= 100:
            problems.append(_("第 {n} 行：满分应为 1–100 的整数").format(n=number))
        else:
            items.append((section, item, int(top)))
    if problems:
        raise ValidationFailed(problems[0], fields={"items": problems})
    if not items:
        raise ValidationFailed(_("请至少填写一个评分项"), field="items")
    if len(items) > 200:
        raise ValidationFailed(_("评分项不能超过 200 个"), field="items")
    return items


def sheet_templates_require_edit(actor: Staff) -> None:
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以编辑评分表"))


def _sheet_template_fields(name: str, role: str, items: Sequence[tuple[str, str, int]]) -> tuple[str, str]:
    """The name and role cleaned, the items checked as the textarea's parser checks them
    (for callers that build the items themselves, such as the API); every problem at once."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("请填写名称（不超过 100 字）")]
    role = (role or "").strip()
    if role and role not in APPRAISED:
        errors["role"] = [_("岗位不正确")]
    problems = []
    for number, (section, text, top) in enumerate(items, start=1):
        if not str(section).strip() or not str(text).strip() or len(section) > 50 or len(text) > 200:
            problems.append(_("第 {n} 项：类别不超过 50 字，评分项不超过 200 字，都不能为空").format(n=number))
        elif isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 100:
            problems.append(_("第 {n} 项：满分应为 1–100 的整数").format(n=number))
    if problems:
        errors["items"] = problems
    elif not items:
        errors["items"] = [_("请至少填写一个评分项")]
    elif len(items) > 200:
        errors["items"] = [_("评分项不能超过 200 个")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return name, role


def _sheet_items_save(template: SheetTemplate, items: Sequence[tuple[str, str, int]]) -> None:
    SheetItem.objects.bulk_create(
        SheetItem(template=template, section=s.strip(), text=t.strip(), max_score=m, position=i)
        for i, (s, t, m) in enumerate(items, start=1)
    )


def sheet_template_create(
    *, name: str, role: str, items: Sequence[tuple[str, str, int]], actor: Staff
) -> SheetTemplate:
    """A new score sheet: its items in the order given, numbered from 1."""
    sheet_templates_require_edit(actor)
    name, role = _sheet_template_fields(name, role, items)
    with transaction.atomic():
        template = SheetTemplate.objects.create(name=name, role=role)
        _sheet_items_save(template, items)
    return template


def sheet_template_update(
    *, template: SheetTemplate, name: str, role: str, items: Sequence[tuple[str, str, int]], actor: Staff
) -> SheetTemplate:
    """Change a score sheet's name, role and items, as long as nobody scored with it: the
    sheets filled in keep their item ids and maxima. Once used it is stopped and a new one made."""
    sheet_templates_require_edit(actor)
    if sheet_template_in_use(template):
        raise ValidationFailed(_("已有评分记录的评分表不能修改评分项，请停用后新建"), field="items")
    name, role = _sheet_template_fields(name, role, items)
    with transaction.atomic():
        # Locked against a sheet being scored with it meanwhile (``sheet_submit`` locks it too).
        locked = SheetTemplate.objects.select_for_update().get(pk=template.pk)
        if sheet_template_in_use(locked):
            raise ValidationFailed(_("已有评分记录的评分表不能修改评分项，请停用后新建"), field="items")
        SheetTemplate.objects.filter(pk=locked.pk).update(name=name, role=role)
        SheetItem.objects.filter(template=locked).delete()
        _sheet_items_save(locked, items)
    template.refresh_from_db()
    return template


def sheet_template_set_active(*, template: SheetTemplate, active: bool, actor: Staff) -> SheetTemplate:
    """停用 / 启用: a stopped sheet is no longer offered for scoring; the sheets already
    scored with it stay in the results."""
    sheet_templates_require_edit(actor)
    SheetTemplate.objects.filter(pk=template.pk).update(is_active=active)
    template.refresh_from_db()
    return template


def sheet_submit(*, appraisal: Appraisal, template: SheetTemplate, actor: Staff, scores: Mapping[str, object]) -> Sheet:
    """Score every item of the sheet (0 to its maximum); the sheet's score out of 100 joins
    the person's total, which is re-ranked at once. Scoring again replaces one's own sheet."""
    if not may_judge(actor, appraisal):
        raise PermissionDenied(_("只有直属上级或经理可以评分"))
    if appraisal.period.status == Period.Status.CLOSED:
        raise ValidationFailed(_("考核期已结束，不能再评分"))
    with transaction.atomic():
        # The template as it stands, locked: not stopped or edited while this sheet is saved.
        template = SheetTemplate.objects.select_for_update().get(pk=template.pk)
        if not template.is_active or (template.role and template.role != appraisal.role):
            raise ValidationFailed(_("该评分表不适用于此岗位"), field="template")
        items = list(template.items.all())
        errors: dict[str, list[str]] = {}
        points: dict[str, int] = {}
        for item in items:
            raw = str(scores.get(str(item.id), "")).strip()
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or int(raw) > item.max_score:
                errors[f"item-{item.id}"] = [
                    _("第 {n} 项：请填写 0–{max} 的整数").format(n=item.position, max=item.max_score)
                ]
            else:
                points[str(item.id)] = int(raw)
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
        got, top = sum(points.values()), sum(item.max_score for item in items)
        sheet, _created = Sheet.objects.update_or_create(
            appraisal=appraisal,
            template=template,
            scorer=actor,
            defaults={
                "scores": points,
                "points": got,
                "max_points": top,
                "score": to_points(got * 100 / top),
                "submitted_at": timezone.now(),
            },
        )
        _refresh_total(appraisal)
    return sheet


def _refresh_total(appraisal: Appraisal) -> None:
    """The sheet score is the mean of the person's sheets; the total and the role's ranks follow."""
    scores = list(Sheet.objects.filter(appraisal=appraisal).values_list("score", flat=True))
    sheet_score = to_points(sum(scores) / len(scores)) if scores else None
    rules = rules_applied(appraisal)
    total = combined(appraisal.kpi_score, sheet_score, appraisal.adjustments, rules)
    Appraisal.objects.filter(pk=appraisal.pk).update(
        sheet_score=sheet_score, total=total, signed_by=None, signed_at=None
    )
    _rank(appraisal.period)
    appraisal.refresh_from_db()


# --- schemes ---------------------------------------------------------------------------------

Number = int | str  # a whole number, or the text of one from a form
SCHEME_CARD_COLORS = tuple(WarningCard.Color.values)
MAX_HANDLED_TARGET = 10_000


def _whole(value: object, low: int, high: int) -> int | None:
    """``value`` as a whole number within [low, high], else None (bools, fractions and
    anything that is not plain ASCII digits are refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str("" if value is None else value).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            return None
        number = int(text)
    return number if low <= number <= high else None


def scheme_update(
    *,
    role: str,
    weights: Mapping[str, Number],
    handled_target: Number,
    sheet_share: Number,
    card_points: Mapping[str, Number],
    praise_points: Number,
    actor: Staff,
) -> Scheme:
    """考核方案 of one role, saved whole: each KPI's weight (0–100, at least one above 0; a
    KPI left out weighs 0), the monthly handled target, the score sheets' share of the total,
    the points a card of each colour takes off and a praise adds. Every field is checked
    before anything is saved; who changed it and when is kept. Periods already computed keep
    the rules they were computed with until they are computed again (a closed one never is)."""
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以设置考核方案"))
    if role not in APPRAISED:
        raise ValidationFailed(_("岗位不正确"), field="role")
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(k) for k in weights if k not in KPIS)
    if unknown:
        errors["weights"] = [_("未知的指标：{codes}").format(codes="、".join(unknown)[:100])]
    chosen: dict[str, int] = {}
    for code in KPIS:
        weight = _whole(weights.get(code, 0), 0, 100)
        if weight is None:
            errors[f"weights.{code}"] = [_("权重应为 0–100 的整数")]
        else:
            chosen[code] = weight
    if not unknown and len(chosen) == len(KPIS) and not any(chosen.values()):
        errors["weights"] = [_("至少一项指标的权重大于 0")]
    target = _whole(handled_target, 1, MAX_HANDLED_TARGET)
    if target is None:
        errors["handled_target"] = [_("办结量满分标准应为 1–{max} 的整数（张/月）").format(max=MAX_HANDLED_TARGET)]
    share = _whole(sheet_share, 0, 100)
    if share is None:
        errors["sheet_share"] = [_("评分表占比应为 0–100 的整数")]
    odd = sorted(str(k) for k in card_points if k not in SCHEME_CARD_COLORS)
    if odd:
        errors["card_points"] = [_("未知的警告卡颜色：{colors}").format(colors="、".join(odd)[:100])]
    cards: dict[str, int] = {}
    for color in SCHEME_CARD_COLORS:
        taken = _whole(card_points.get(color, ""), 0, 100)
        if taken is None:
            errors[f"card_points.{color}"] = [_("扣分应为 0–100 的整数")]
        else:
            cards[color] = taken
    praise = _whole(praise_points, 0, 100)
    if praise is None:
        errors["praise_points"] = [_("表扬加分应为 0–100 的整数")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert target is not None and share is not None and praise is not None
    with transaction.atomic():
        scheme, _created = Scheme.objects.update_or_create(
            role=role,
            defaults={
                "weights": chosen,
                "handled_target": target,
                "sheet_share": share,
                "card_points": cards,
                "praise_points": praise,
                "updated_by": actor,
                "updated_at": timezone.now(),
            },
        )
    return scheme


# --- rewards and penalties ------------------------------------------------------------------


def reward_record(
    *,
    staff: Staff | None,
    site: Site | None,
    day: date | None,
    kind: str,
    points: str,
    amount: str = "",
    reason: str,
    actor: Staff,
) -> RewardPenalty:
    """奖惩登记 by a supervisor or above, for someone at one of their sites."""
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以登记奖惩"))
    errors: dict[str, list[str]] = {}
    scope = site_ids_for(actor)
    if site is None or site.id not in scope:
        errors["site"] = [_("请选择您负责的项目")]
    elif staff is None or not staff.sites.filter(pk=site.pk).exists():
        errors["staff"] = [_("请选择该项目的员工")]
    if kind not in RewardPenalty.Kind.values:
        errors["kind"] = [_("请选择奖励或处罚")]
    if day is None or day > timezone.localdate():
        errors["day"] = [_("请填写日期（不能晚于今天）")]
    value = _decimal(points)
    if value is None or not Decimal(0) < value <= 100:
        errors["points"] = [_("分值应在 0–100 之间")]
    money = _decimal(amount) if (amount or "").strip() else None
    if (amount or "").strip() and (money is None or not Decimal(0) <= money <= 1_000_000):
        errors["amount"] = [_("金额应在 0–1000000 元之间")]
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        errors["reason"] = [_("请填写事由（不超过 300 字）")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert staff is not None and site is not None and day is not None and value is not None
    return RewardPenalty.objects.create(
        staff=staff, site=site, day=day, kind=kind, points=value, amount=money, reason=reason, created_by=actor
    )


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() else None


def period_close(*, period: Period, actor: Staff) -> Period:
    """结束考核期: the results are final; no more recomputing or scoring."""
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以结束考核期"))
    Period.objects.filter(pk=period.pk).update(status=Period.Status.CLOSED)
    period.refresh_from_db()
    return period
