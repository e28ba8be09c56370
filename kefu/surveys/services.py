"""Surveys: templates and their items, distribution batches with one-time links, responses
typed in from paper or sent through a link, and a follow-up ticket for every negative
answer. Every write is here; views and the API only parse and call."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.customers.models import Customer, Tag
from kefu.org.models import Department, Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for
from kefu.tickets.lifecycle import Kind as TicketKind
from kefu.tickets.models import Channel as TicketChannel
from kefu.tickets.models import Ticket
from kefu.tickets.services import ticket_create

from .models import SCALE_LABELS, Answer, Batch, Invitation, Item, Questionnaire, Response

logger = logging.getLogger(__name__)

MAX_ITEMS = 100
MAX_OPTIONS = 20
MAX_TEXT_ANSWER = 1000
MAX_BATCH = 5000
KIND_WORDS = {
    "满意度": Item.Kind.SCALE,
    "单选": Item.Kind.SINGLE,
    "多选": Item.Kind.MULTIPLE,
    "填空": Item.Kind.TEXT,
    "问答": Item.Kind.TEXT,
}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _fail(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)


def _clean(text: str) -> str:
    return (text or "").replace("\x00", "").strip()


# --- templates ------------------------------------------------------------------------------


@dataclass
class ItemSpec:
    """One item as a supervisor describes it, before it is saved."""

    kind: str
    text: str
    department: Department | None = None
    weight: int = 1
    options: list[dict[str, object]] = field(default_factory=list)


def parse_items(text: str) -> list[ItemSpec]:
    """Items from a textarea, one a line: ``类型|题目|部门|权重|选项``, e.g.
    ``满意度|物业服务整体满意度|客服部|权重2`` or ``单选|居住年限|||1年以下=1;1-3年=3;3年以上=5``.
    Type is 满意度, 单选, 多选 or 填空; department, weight and options may be left out.
    Errors name the line."""
    departments = {d.name: d for d in Department.objects.filter(is_active=True)}
    specs: list[ItemSpec] = []
    problems: list[str] = []
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        parts += [""] * (5 - len(parts))
        kind_word, title, dept_name, weight_text, options_text = parts[:5]
        where = _("第 {n} 行：").format(n=number)
        kind = KIND_WORDS.get(kind_word)
        if kind is None:
            problems.append(where + _("题型应为 满意度、单选、多选 或 填空"))
            continue
        if not title:
            problems.append(where + _("题目不能为空"))
            continue
        if len(title) > 200:
            problems.append(where + _("题目不能超过 200 字"))
            continue
        department = None
        if dept_name and dept_name != "-":
            department = departments.get(dept_name)
            if department is None:
                problems.append(where + _("部门“{name}”不存在").format(name=dept_name[:30]))
                continue
        weight = 1
        if weight_text:
            digits = weight_text.removeprefix("权重").strip()
            if not re.fullmatch(r"[0-9]{1,3}", digits) or not 1 <= int(digits) <= 100:
                problems.append(where + _("权重应为 1–100 的整数"))
                continue
            weight = int(digits)
        options: list[dict[str, object]] = []
        if kind in (Item.Kind.SINGLE, Item.Kind.MULTIPLE):
            raw = [o.strip() for o in re.split(r"[;；]", options_text) if o.strip()]
            if len(raw) < 2 or len(raw) > MAX_OPTIONS:
                problems.append(where + _("选择题需要 2–{n} 个选项，用分号分隔").format(n=MAX_OPTIONS))
                continue
            bad = False
            for option in raw:
                label, _sep, score_text = option.partition("=")
                label = label.strip()
                score: int | None = None
                if score_text.strip():
                    if not re.fullmatch(r"[0-5]", score_text.strip()):
                        bad = True
                        problems.append(where + _("选项分值应为 0–5 的整数"))
                        break
                    score = int(score_text)
                if not label or len(label) > 50:
                    bad = True
                    problems.append(where + _("选项不能为空，且不能超过 50 字"))
                    break
                options.append({"label": label, "score": score if kind == Item.Kind.SINGLE else None})
            if bad:
                continue
            if len({o["label"] for o in options}) != len(options):
                problems.append(where + _("选项不能重复"))
                continue
        elif options_text:
            problems.append(where + _("只有单选、多选题可以填写选项"))
            continue
        specs.append(ItemSpec(kind=kind, text=title, department=department, weight=weight, options=options))
    if not specs and not problems:
        problems.append(_("请至少填写一道题目"))
    if len(specs) > MAX_ITEMS:
        problems.append(_("题目不能超过 {n} 道").format(n=MAX_ITEMS))
    if problems:
        raise ValidationFailed(problems[0], fields={"items": problems})
    return specs


def items_as_text(questionnaire: Questionnaire) -> str:
    """The items in the textarea format of :func:`parse_items`, for editing and copying."""
    words: dict[str, str] = {str(v): k for k, v in KIND_WORDS.items() if k != "问答"}
    lines = []
    for item in questionnaire.items.select_related("department").order_by("position"):
        options = ";".join(
            f"{o['label']}={o['score']}" if o.get("score") is not None else str(o["label"]) for o in item.options
        )
        dept = item.department.name if item.department else ""
        lines.append("|".join([words[item.kind], item.text, dept, f"权重{item.weight}", options]).rstrip("|"))
    return "\n".join(lines)


def _check_template(
    actor: Staff, title: str, satisfied_min_score: int, followup_max_score: int
) -> tuple[str, dict[str, list[str]]]:
    if not can(actor.role, "surveys.manage"):
        raise PermissionDenied(_("只有客服主管及以上可以编辑问卷模板"))
    errors: dict[str, list[str]] = {}
    title = _clean(title)
    if not title:
        errors["title"] = [_("问卷标题不能为空")]
    elif len(title) > 100:
        errors["title"] = [_("问卷标题不能超过 100 字")]
    if not 1 <= satisfied_min_score <= 5:
        errors["satisfied_min_score"] = [_("计为满意的最低分应为 1–5")]
    if not 0 <= followup_max_score <= 5:
        errors["followup_max_score"] = [_("需跟进的最高分应为 0–5")]
    return title, errors


def _save_items(questionnaire: Questionnaire, items: Sequence[ItemSpec]) -> None:
    Item.objects.bulk_create(
        Item(
            questionnaire=questionnaire,
            position=position,
            kind=spec.kind,
            text=spec.text,
            department=spec.department,
            weight=spec.weight,
            options=spec.options,
        )
        for position, spec in enumerate(items, start=1)
    )


def questionnaire_create(
    *,
    title: str,
    intro: str = "",
    items: Sequence[ItemSpec],
    actor: Staff,
    satisfied_min_score: int = 4,
    followup_max_score: int = 2,
) -> Questionnaire:
    title, errors = _check_template(actor, title, satisfied_min_score, followup_max_score)
    if not items:
        errors["items"] = [_("请至少填写一道题目")]
    if len(_clean(intro)) > 2000:
        errors["intro"] = [_("卷首语不能超过 2000 字")]
    _fail(errors)
    with transaction.atomic():
        questionnaire = Questionnaire.objects.create(
            title=title,
            intro=_clean(intro),
            satisfied_min_score=satisfied_min_score,
            followup_max_score=followup_max_score,
            created_by=actor,
        )
        _save_items(questionnaire, items)
    return questionnaire


def questionnaire_update(
    *,
    questionnaire: Questionnaire,
    title: str,
    intro: str = "",
    items: Sequence[ItemSpec],
    actor: Staff,
    satisfied_min_score: int = 4,
    followup_max_score: int = 2,
) -> Questionnaire:
    """Replace title, settings and items. Refused once anyone has answered: the answers
    point at the items, and the figures would change meaning (copy the template instead)."""
    title, errors = _check_template(actor, title, satisfied_min_score, followup_max_score)
    if not items:
        errors["items"] = [_("请至少填写一道题目")]
    if len(_clean(intro)) > 2000:
        errors["intro"] = [_("卷首语不能超过 2000 字")]
    _fail(errors)
    with transaction.atomic():
        # Lock the template so a response cannot arrive between the check and the rewrite.
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        if Response.objects.filter(batch__questionnaire=locked).exists():
            raise Conflict(_("该问卷已有答卷，不能再修改题目，请复制后修改"))
        locked.title, locked.intro = title, _clean(intro)
        locked.satisfied_min_score, locked.followup_max_score = satisfied_min_score, followup_max_score
        locked.save()
        locked.items.all().delete()
        _save_items(locked, items)
    return locked


def questionnaire_copy(*, questionnaire: Questionnaire, actor: Staff) -> Questionnaire:
    if not can(actor.role, "surveys.manage"):
        raise PermissionDenied(_("只有客服主管及以上可以编辑问卷模板"))
    items = [
        ItemSpec(kind=i.kind, text=i.text, department=i.department, weight=i.weight, options=list(i.options))
        for i in questionnaire.items.select_related("department").order_by("position")
    ]
    return questionnaire_create(
        title=(_("{title}（副本）").format(title=questionnaire.title))[:100],
        intro=questionnaire.intro,
        items=items,
        actor=actor,
        satisfied_min_score=questionnaire.satisfied_min_score,
        followup_max_score=questionnaire.followup_max_score,
    )


def questionnaire_set_active(*, questionnaire: Questionnaire, active: bool, actor: Staff) -> Questionnaire:
    """停用 / 启用 a template. A stopped template is offered for no new batch; batches already
    handed out keep collecting answers."""
    if not can(actor.role, "surveys.manage"):
        raise PermissionDenied(_("只有客服主管及以上可以编辑问卷模板"))
    Questionnaire.objects.filter(pk=questionnaire.pk).update(is_active=active)
    questionnaire.is_active = active
    return questionnaire


# --- batches --------------------------------------------------------------------------------


def end_of_day(day: date) -> datetime:
    """23:59:59 local time of ``day``: when a batch's links stop working by default."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def batch_create(
    *,
    questionnaire: Questionnaire,
    site: Site,
    name: str,
    starts_on: date,
    ends_on: date,
    target: str,
    actor: Staff,
    buildings: Sequence[str] = (),
    tag: Tag | None = None,
    customer_ids: Sequence[int] = (),
) -> Batch:
    """Hand a questionnaire out to a site's customers chosen by building, tag or list: one
    invitation with a fresh one-time token per customer, valid to the end date's evening."""
    if not can(actor.role, "surveys.manage"):
        raise PermissionDenied(_("只有客服主管及以上可以发放问卷"))
    errors: dict[str, list[str]] = {}
    if site.id not in site_ids_for(actor):
        errors["site"] = [_("无权在该项目发放问卷")]
    if not questionnaire.is_active:
        errors["questionnaire"] = [_("该问卷模板已停用")]
    name = _clean(name)
    if not name:
        errors["name"] = [_("批次名称不能为空")]
    elif len(name) > 100:
        errors["name"] = [_("批次名称不能超过 100 字")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期")]
    elif ends_on < timezone.localdate():
        errors["ends_on"] = [_("结束日期不能早于今天")]
    customers = Customer.objects.filter(site=site, is_active=True)
    note = ""
    if target == Batch.Target.BUILDING:
        wanted = sorted({_clean(b) for b in buildings if _clean(b)})
        if not wanted:
            errors["buildings"] = [_("请填写楼栋")]
        customers = customers.filter(unit_links__unit__building__in=wanted)
        note = _("楼栋：{names}").format(names="、".join(wanted))
    elif target == Batch.Target.TAG:
        if tag is None:
            errors["tag"] = [_("请选择客户标签")]
        else:
            customers = customers.filter(tags=tag)
            note = _("标签：{name}").format(name=tag.name)
    elif target == Batch.Target.CUSTOMERS:
        ids = sorted(set(customer_ids))
        if not ids:
            errors["customers"] = [_("请选择客户")]
        elif len(ids) > MAX_BATCH:
            errors["customers"] = [_("一次最多发放 {n} 位客户").format(n=MAX_BATCH)]
        else:
            found = set(customers.filter(pk__in=ids).values_list("pk", flat=True))
            if found != set(ids):
                errors["customers"] = [_("有客户不存在或不属于该项目")]
            customers = customers.filter(pk__in=ids)
            note = _("指定客户 {n} 位").format(n=len(ids))
    else:
        errors["target"] = [_("请选择发放对象：按楼栋、按客户标签或指定客户")]
    _fail(errors)
    chosen = list(customers.order_by("id").values_list("id", flat=True).distinct()[: MAX_BATCH + 1])
    if not chosen:
        raise ValidationFailed(_("所选范围内没有客户"), field="target")
    if len(chosen) > MAX_BATCH:
        raise ValidationFailed(_("一次最多发放 {n} 位客户").format(n=MAX_BATCH), field="target")
    expires = end_of_day(ends_on)
    with transaction.atomic():
        batch = Batch.objects.create(
            questionnaire=questionnaire,
            site=site,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            target=target,
            target_note=note[:300],
            handed_out=len(chosen),
            created_by=actor,
        )
        invitations = []
        for customer_id in chosen:
            token = secrets.token_urlsafe(24)
            invitations.append(
                Invitation(
                    batch=batch, customer_id=customer_id, token=token, digest=token_digest(token), expires_at=expires
                )
            )
        Invitation.objects.bulk_create(invitations, batch_size=500)
    return batch


# --- collection -----------------------------------------------------------------------------


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation a customer link names. Unknown → NotFound; used or expired → a
    DomainError with status 410. The messages never name the customer."""
    if not token or len(token) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise NotFound(_("链接无效"))
    invitation = (
        Invitation.objects.select_related("batch__questionnaire", "batch__site", "batch__created_by", "customer")
        .filter(digest=token_digest(token))
        .first()
    )
    # The digest already matched; comparing the stored token too costs nothing and keeps the
    # check constant-time should the lookup ever change.
    if invitation is None or not secrets.compare_digest(invitation.token, token):
        raise NotFound(_("链接无效"))
    now = now or timezone.now()
    if invitation.used_at is not None:
        raise LinkGone(_("该问卷已提交，感谢您的参与"))
    if invitation.expires_at <= now:
        raise LinkGone(_("该调查已结束，链接已失效"))
    return invitation


class LinkGone(DomainError):
    """A customer link that was valid once: already answered or past its date."""

    status_code = 410


def _answer_one(item: Item, raw: list[str], *, required: bool) -> Answer | str | None:
    """An unsaved Answer, None for no answer, or the Chinese reason the answer is refused."""
    values = [v.strip() for v in raw if isinstance(v, str) and v.strip()]
    if not values:
        return _("请作答") if required else None
    if item.kind == Item.Kind.TEXT:
        text = "\n".join(values)
        if len(text) > MAX_TEXT_ANSWER:
            return _("不能超过 {n} 字").format(n=MAX_TEXT_ANSWER)
        if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
            return _("包含无效的字符")
        return Answer(item=item, value=text)
    allowed = dict(item.choices)
    picked: list[int] = []
    for value in values:
        if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) not in allowed:
            return _("选项不正确")
        picked.append(int(value))
    if len(set(picked)) != len(picked):
        return _("选项不能重复")
    if item.kind in (Item.Kind.SCALE, Item.Kind.SINGLE) and len(picked) != 1:
        return _("只能选择一项")
    if item.kind == Item.Kind.SCALE:
        return Answer(item=item, score=picked[0], choices=picked, value=SCALE_LABELS[picked[0]])
    if item.kind == Item.Kind.SINGLE:
        option = item.options[picked[0] - 1]
        score = option.get("score")
        return Answer(
            item=item, score=int(score) if isinstance(score, int) else None, choices=picked, value=allowed[picked[0]]
        )
    picked.sort()
    return Answer(item=item, choices=picked, value="、".join(allowed[n] for n in picked))


def validate_answers(items: Sequence[Item], raw: Mapping[int, Sequence[str]], *, complete: bool) -> list[Answer]:
    """Every answer checked against its item; ``raw`` maps item position to the posted
    values (a scale's score, option numbers from 1, or the text). ``complete`` (the customer
    link) requires every choice item; a paper form may have blanks but not be empty."""
    errors: dict[str, list[str]] = {}
    answers: list[Answer] = []
    positions = {item.position for item in items}
    for position in raw:
        if position not in positions:
            errors.setdefault("answers", []).append(_("第 {n} 题不存在").format(n=position))
    for item in items:
        result = _answer_one(item, list(raw.get(item.position, ())), required=complete and item.kind != "text")
        if isinstance(result, str):
            errors[f"q{item.position}"] = [_("第 {n} 题：{reason}").format(n=item.position, reason=result)]
        elif result is not None:
            answers.append(result)
    if not errors and not answers:
        errors["answers"] = [_("答卷是空的，请至少填写一题")]
    _fail(errors)
    return answers


def response_submit(
    *,
    invitation: Invitation,
    answers: Mapping[int, Sequence[str]],
    channel: str,
    actor: Staff | None = None,
) -> Response:
    """Record one response to an invitation, and a follow-up ticket for each answer scored at
    or below the template's threshold. Paper (``actor`` typed it in) needs the right to enter
    forms at the batch's site; a link response is the customer's own and has no actor."""
    batch = invitation.batch
    if channel == Response.Channel.PAPER:
        if actor is None or not can(actor.role, "surveys.enter"):
            raise PermissionDenied(_("您没有录入问卷的权限"))
        if batch.site_id not in site_ids_for(actor):
            raise NotFound(_("调查邀请不存在"))
    elif channel != Response.Channel.LINK:
        raise ValidationFailed(_("回收方式不正确"), field="channel")
    questionnaire = batch.questionnaire
    items = list(questionnaire.items.select_related("department").order_by("position"))
    parsed = validate_answers(items, answers, complete=channel == Response.Channel.LINK)
    now = timezone.now()
    with transaction.atomic():
        # The conditional update claims the invitation: of two submissions racing, exactly
        # one sees a row updated; the one-to-one response backs this up in the database.
        claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            raise Conflict(_("该客户已提交过答卷"))
        try:
            response = Response.objects.create(
                invitation=invitation,
                batch=batch,
                customer=invitation.customer,
                channel=channel,
                entered_by=actor if channel == Response.Channel.PAPER else None,
                submitted_at=now,
            )
        except IntegrityError:
            raise Conflict(_("该客户已提交过答卷")) from None
        for answer in parsed:
            answer.response = response
        Answer.objects.bulk_create(parsed)
        invitation.used_at = now
        followup_actor = actor if channel == Response.Channel.PAPER and actor is not None else batch.created_by
        for answer in parsed:
            if answer.score is not None and answer.score <= questionnaire.followup_max_score:
                answer.followup_ticket = _followup(answer, response, followup_actor)
                if answer.followup_ticket is not None:
                    Answer.objects.filter(response=response, item=answer.item).update(
                        followup_ticket=answer.followup_ticket
                    )
    return response


def _followup(answer: Answer, response: Response, actor: Staff) -> Ticket | None:
    """A complaint (scale items) or suggestion for one negative answer, with its words."""
    item = answer.item
    batch = response.batch
    comments = "；".join(
        f"{a.item.text}：{a.value}" for a in response.answers.select_related("item").filter(item__kind="text")
    )
    content = _("满意度调查「{batch}」第 {n} 题“{text}”，客户回答“{value}”（{score} 分）。").format(
        batch=batch.name, n=item.position, text=item.text, value=answer.value, score=answer.score
    )
    if item.department is not None:
        content += _("责任部门：{name}。").format(name=item.department.name)
    if comments:
        content += _("客户意见：{text}").format(text=comments)
    try:
        # A savepoint: should the actor have lost the right to take tickets, the answer is
        # still recorded and the missing follow-up shows on the batch page.
        with transaction.atomic():
            return ticket_create(
                site=batch.site,
                kind=TicketKind.COMPLAINT if item.kind == Item.Kind.SCALE else TicketKind.SUGGESTION,
                channel=TicketChannel.WEB if response.channel == Response.Channel.LINK else TicketChannel.VISIT,
                content=content[:5000],
                actor=actor,
                customer=response.customer,
                auto_dispatch=False,
                origin=None,
            )
    except DomainError as exc:
        logger.warning("survey follow-up for response %s not created: %s", response.pk, exc.message)
        return None
