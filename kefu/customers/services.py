"""Every write to a customer record; each records what changed in the history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.phones import is_valid, last4, normalize
from kefu.core.quiet import format_spans, parse_spans
from kefu.notify.services import notify
from kefu.org.models import Role, Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import site_ids_for

from .hooks import AFTER_CUSTOMER_UPDATE
from .models import Customer, CustomerEvent, CustomerPhone, CustomerUnit, Tag, Unit

CONFLICT_MESSAGE = gettext_lazy("保存失败：该客户资料已被他人修改，请刷新后重试")


@dataclass
class UnitLink:
    building: str
    entrance: str
    room: str
    relation: str = CustomerUnit.Relation.OWNER


@dataclass
class CustomerData:
    """Validated input for creating or updating a customer."""

    name: str
    kind: str = Customer.Kind.PERSON
    phones: list[str] = field(default_factory=list)
    units: list[UnitLink] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    gender: str = ""
    contact_person: str = ""
    email: str = ""
    source: str = Customer.Source.OTHER
    note: str = ""
    visit_hours: str = ""


def clean_customer_data(data: CustomerData) -> CustomerData:
    """Normalise ``data`` and raise ValidationFailed with every field's Chinese message."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    data.name = (data.name or "").strip()
    if not data.name:
        err("name", _("姓名不能为空"))
    elif len(data.name) > 100:
        err("name", _("姓名不能超过 100 字"))
    if data.kind not in Customer.Kind.values:
        err("kind", _("客户类型不正确"))
    if data.gender not in Customer.Gender.values:
        err("gender", _("性别不正确"))
    if data.source not in Customer.Source.values:
        err("source", _("客户来源不正确"))
    phones: list[str] = []
    for raw in data.phones:
        if not (raw or "").strip():
            continue
        number = normalize(raw)
        if not is_valid(number):
            err("phones", _("手机号码格式不正确：{phone}").format(phone=raw))
        elif number not in phones:
            phones.append(number)
    if not phones and not errors.get("phones"):
        err("phones", _("请至少填写一个联系电话"))
    data.phones = phones[:5]
    data.email = (data.email or "").strip()
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            err("email", _("邮箱格式不正确"))
    for link in data.units:
        link.building, link.entrance, link.room = (
            (link.building or "").strip(),
            (link.entrance or "").strip(),
            (link.room or "").strip(),
        )
        if not link.building or not link.room:
            err("units", _("房屋请填写楼栋和房号"))
        elif max(len(link.building), len(link.entrance), len(link.room)) > 20:
            err("units", _("楼栋、单元、房号均不能超过 20 个字符"))
        if link.relation not in CustomerUnit.Relation.values:
            err("units", _("与房屋的关系不正确"))
    data.tags = [t.strip() for t in data.tags if t and t.strip()]
    if any(len(t) > 20 for t in data.tags):
        err("tags", _("标签不能超过 20 个字"))
    data.contact_person = (data.contact_person or "").strip()[:50]
    data.note = (data.note or "").strip()
    if len(data.note) > 2000:
        err("note", _("备注不能超过 2000 字"))
    data.visit_hours = (data.visit_hours or "").strip()
    if data.visit_hours:
        try:
            data.visit_hours = format_spans(parse_spans(data.visit_hours))[:60]
        except ValidationFailed as exc:
            err("visit_hours", exc.message)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return data


def _check_phone_owners(site: Site, phones: list[str], *, exclude: int | None = None) -> None:
    """A phone number belongs to one customer per site (the import applies the same rule)."""
    taken = CustomerPhone.objects.filter(number__in=phones, customer__site=site)
    if exclude is not None:
        taken = taken.exclude(customer_id=exclude)
    hit = taken.select_related("customer").first()
    if hit is not None:
        raise ValidationFailed(
            _("电话 {phone} 已存在（客户：{customer}）").format(phone=hit.number, customer=hit.customer.name),
            field="phones",
        )


def _check_site(actor: Staff, site: Site) -> None:
    if not can(actor.role, "customers.edit"):
        raise PermissionDenied(_("您没有编辑客户资料的权限"))
    if site.id not in site_ids_for(actor):
        raise PermissionDenied(_("无权在该项目建档"))


def customer_create(*, site: Site, data: CustomerData, actor: Staff, source_event: str = "created") -> Customer:
    _check_site(actor, site)
    data = clean_customer_data(data)
    _check_phone_owners(site, data.phones)
    with transaction.atomic():
        customer = Customer.objects.create(
            site=site,
            kind=data.kind,
            name=data.name,
            gender=data.gender,
            contact_person=data.contact_person,
            email=data.email,
            source=data.source,
            note=data.note,
            visit_hours=data.visit_hours,
            created_by=actor,
        )
        _set_phones(customer, data.phones)
        _set_units(customer, data.units)
        _set_tags(customer, data.tags)
        CustomerEvent.objects.create(customer=customer, actor=actor, type=source_event, data=_snapshot(customer))
    return customer


_TRACKED = ("kind", "name", "gender", "contact_person", "email", "source", "note", "visit_hours")


def customer_update(*, customer: Customer, data: CustomerData, actor: Staff, version: int) -> Customer:
    """Update a record if nobody saved it since ``version``; history keeps before/after."""
    _check_site(actor, customer.site)
    data = clean_customer_data(data)
    _check_phone_owners(customer.site, data.phones, exclude=customer.pk)
    before = _snapshot(customer)
    with transaction.atomic():
        values: dict[str, Any] = {name: getattr(data, name) for name in _TRACKED}
        values["updated_at"] = timezone.now()
        updated = Customer.objects.filter(pk=customer.pk, version=version).update(**values, version=F("version") + 1)
        if updated != 1:
            raise Conflict(CONFLICT_MESSAGE)
        for name, value in values.items():
            setattr(customer, name, value)
        customer.version = version + 1
        _set_phones(customer, data.phones)
        _set_units(customer, data.units)
        _set_tags(customer, data.tags)
        after = _snapshot(customer)
        changes = {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
        if changes:
            CustomerEvent.objects.create(customer=customer, actor=actor, type="updated", data={"changes": changes})
            for hook in AFTER_CUSTOMER_UPDATE:
                hook(customer=customer, changed=frozenset(changes))
    return customer


def _set_phones(customer: Customer, numbers: list[str]) -> None:
    existing = {p.number: p for p in customer.phones.all()}
    keep = set(numbers)
    customer.phones.exclude(number__in=keep).delete()
    for index, number in enumerate(numbers):
        phone = existing.get(number) or CustomerPhone(customer=customer, number=number, last4=last4(number))
        phone.is_primary = index == 0
        phone.save()


def _set_units(customer: Customer, links: Iterable[UnitLink]) -> None:
    wanted: dict[int, str] = {}
    for link in links:
        unit, _created = Unit.objects.get_or_create(
            site=customer.site, building=link.building, entrance=link.entrance, room=link.room
        )
        wanted[unit.id] = link.relation
    customer.unit_links.exclude(unit_id__in=wanted).delete()
    for unit_id, relation in wanted.items():
        CustomerUnit.objects.update_or_create(customer=customer, unit_id=unit_id, defaults={"relation": relation})


def _set_tags(customer: Customer, names: list[str]) -> None:
    tags = [Tag.objects.get_or_create(name=name)[0] for name in names]
    customer.tags.set(tags)


def _snapshot(customer: Customer) -> dict[str, Any]:
    snap: dict[str, Any] = {name: getattr(customer, name) for name in _TRACKED}
    snap["phones"] = list(customer.phones.order_by("-is_primary", "id").values_list("number", flat=True))
    snap["units"] = sorted(
        f"{link.unit.label}({link.get_relation_display()})" for link in customer.unit_links.select_related("unit")
    )
    snap["tags"] = sorted(customer.tags.values_list("name", flat=True))
    return snap


def customers_import_create(*, rows: list[tuple[Site, CustomerData]], actor: Staff) -> list[Customer]:
    """Create the customers of an Excel import: all in one transaction, or none.

    The same records and ``imported`` history entries as ``customer_create`` would write, but
    in bulk — row by row a 5,000-row file costs ~100,000 queries and a minute of a web worker.
    Importing is its own right (``customers.import``): 系统管理员 may import but not edit by hand.
    """
    if not can(actor.role, "customers.import"):
        raise PermissionDenied(_("您没有导入客户资料的权限"))
    allowed = site_ids_for(actor)
    if any(site.id not in allowed for site, _ in rows):
        raise PermissionDenied(_("无权在该项目建档"))
    cleaned = [(site, clean_customer_data(data)) for site, data in rows]
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    site=site,
                    kind=data.kind,
                    name=data.name,
                    gender=data.gender,
                    contact_person=data.contact_person,
                    email=data.email,
                    source=Customer.Source.IMPORT,
                    note=data.note,
                    visit_hours=data.visit_hours,
                    created_by=actor,
                )
                for site, data in cleaned
            ],
            batch_size=500,
        )
        CustomerPhone.objects.bulk_create(
            [
                CustomerPhone(customer=customer, number=number, last4=last4(number), is_primary=index == 0)
                for customer, (_, data) in zip(customers, cleaned, strict=True)
                for index, number in enumerate(data.phones)
            ],
            batch_size=500,
        )
        unit_ids = _unit_ids({(site.id, u.building, u.entrance, u.room) for site, data in cleaned for u in data.units})
        links: dict[tuple[int, int], str] = {}
        for customer, (site, data) in zip(customers, cleaned, strict=True):
            for u in data.units:
                links[(customer.id, unit_ids[(site.id, u.building, u.entrance, u.room)])] = u.relation
        CustomerUnit.objects.bulk_create(
            [CustomerUnit(customer_id=c, unit_id=u, relation=rel) for (c, u), rel in links.items()], batch_size=500
        )
        tag_ids = _tag_ids({name for _, data in cleaned for name in data.tags})
        Through = Customer.tags.through
        Through.objects.bulk_create(
            [
                Through(customer_id=customer.id, tag_id=tag_ids[name])
                for customer, (_, data) in zip(customers, cleaned, strict=True)
                for name in dict.fromkeys(data.tags)
            ],
            batch_size=500,
        )
        CustomerEvent.objects.bulk_create(
            [
                CustomerEvent(customer=customer, actor=actor, type="imported", data=_snapshot_of(customer, data))
                for customer, (_, data) in zip(customers, cleaned, strict=True)
            ],
            batch_size=500,
        )
    return customers


def _unit_ids(keys: set[tuple[int, str, str, str]]) -> dict[tuple[int, str, str, str], int]:
    """Ids of the units (site, building, entrance, room), creating the missing ones."""

    def fetch() -> dict[tuple[int, str, str, str], int]:
        found: dict[tuple[int, str, str, str], int] = {}
        rooms = sorted({key[3] for key in keys})
        site_ids = {key[0] for key in keys}
        for start in range(0, len(rooms), 500):  # below SQLite's limit on query parameters
            for pk, *key in Unit.objects.filter(site_id__in=site_ids, room__in=rooms[start : start + 500]).values_list(
                "id", "site_id", "building", "entrance", "room"
            ):
                if tuple(key) in keys:
                    found[tuple(key)] = pk  # type: ignore[index]
        return found

    found = fetch() if keys else {}
    missing = keys - found.keys()
    if missing:
        # ignore_conflicts: a colleague may add the same room meanwhile; fetch again either way.
        Unit.objects.bulk_create(
            [Unit(site_id=s, building=b, entrance=e, room=r) for s, b, e, r in missing],
            batch_size=500,
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _tag_ids(names: set[str]) -> dict[str, int]:
    existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    missing = names - existing.keys()
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    return existing


def _snapshot_of(customer: Customer, data: CustomerData) -> dict[str, Any]:
    """What ``_snapshot`` reads back from the database, computed from cleaned input."""
    snap: dict[str, Any] = {name: getattr(customer, name) for name in _TRACKED}
    snap["phones"] = list(data.phones)
    units = {(u.building, u.entrance, u.room): u.relation for u in data.units}
    snap["units"] = sorted(
        f"{Unit(building=b, entrance=e, room=r).label}({CustomerUnit.Relation(rel).label})"
        for (b, e, r), rel in units.items()
    )
    snap["tags"] = sorted(set(data.tags))
    return snap


# --- ownership (客户归属) ---------------------------------------------------------------------

FIRST_CONTACT_DAYS = 7
OWNER_ROLES = (Role.AGENT, Role.SUPERVISOR)


def pick_owner(*, customer: Customer, candidates: Sequence[Staff], load: dict[int, int]) -> Staff | None:
    """The candidate with the fewest customers, preferring those whose skills match the
    customer's tags (客户数量均衡、兼顾业务能力). ``load`` is updated as customers are given out."""
    if not candidates:
        return None
    tags = {t.name for t in customer.tags.all()}
    skilled = [s for s in candidates if tags & {k.name for k in s.skills.all()}]
    pool = skilled or list(candidates)
    chosen = min(pool, key=lambda s: (load.get(s.id, 0), s.id))
    load[chosen.id] = load.get(chosen.id, 0) + 1
    return chosen


def customer_assign(
    *, customers: Sequence[Customer], actor: Staff, to: Staff | None = None, leaving: Staff | None = None
) -> int:
    """Give customers to an agent (客户分配): to ``to``, or each to the least-loaded agent of
    its site. The new owner must make first contact within 7 days. Supervisors and above."""
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以分配客户"))
    scope = site_ids_for(actor)
    if any(c.site_id not in scope for c in customers):
        raise PermissionDenied(_("无权分配其他项目的客户"))
    if to is not None and (not to.is_active or to.role not in OWNER_ROLES):
        raise ValidationFailed(_("客户专员须为在岗的客服专员或主管"), field="to")
    now = timezone.now()
    sites = {c.site_id for c in customers}
    staff_by_site = {
        site_id: list(
            Staff.objects.filter(is_active=True, user__is_active=True, role=Role.AGENT, sites=site_id)
            .exclude(pk=leaving.pk if leaving else 0)
            .prefetch_related("skills")
            .order_by("id")
        )
        for site_id in sites
    }
    counted = Customer.objects.filter(is_active=True, owner__isnull=False).values("owner").annotate(n=Count("id"))
    load = {row["owner"]: row["n"] for row in counted}
    given = 0
    with transaction.atomic():
        for customer in customers:
            if to is not None:
                if customer.site_id not in site_ids_for(to):
                    raise ValidationFailed(_("{name} 不在客户所在项目").format(name=to.name), field="to")
                owner: Staff | None = to
            else:
                owner = pick_owner(customer=customer, candidates=staff_by_site[customer.site_id], load=load)
            if owner is None:
                raise ValidationFailed(_("项目中没有可分配的客服专员"), field="to")
            if owner.id == customer.owner_id:
                continue
            before = customer.owner.name if customer.owner else ""
            Customer.objects.filter(pk=customer.pk).update(
                owner=owner,
                owner_since=now,
                first_contact_due=now + timedelta(days=FIRST_CONTACT_DAYS),
                first_contacted_at=None,
                first_contact_warned_at=None,
            )
            CustomerEvent.objects.create(
                customer=customer, actor=actor, at=now, type="assigned", data={"from": before, "to": owner.name}
            )
            given += 1
    return given


def customers_reassign_from(*, from_staff: Staff, actor: Staff, to: Staff | None = None) -> int:
    """Move every customer of an agent who leaves (离职交接) to ``to`` or, balanced, to the
    others of each site."""
    owned = list(
        Customer.objects.filter(owner=from_staff, site_id__in=site_ids_for(actor))
        .select_related("owner")
        .prefetch_related("tags")
    )
    if to is not None and to.pk == from_staff.pk:
        raise ValidationFailed(_("接手人不能是原客户专员"), field="to")
    # The leaver is no candidate for their own customers.
    return customer_assign(customers=owned, actor=actor, to=to, leaving=from_staff)


CONTACT_CHANNELS = {
    "phone": gettext_lazy("电话"),
    "visit": gettext_lazy("上门拜访"),
    "wechat": gettext_lazy("微信"),
    "meeting": gettext_lazy("来访面谈"),
}


def customer_contact_record(*, customer: Customer, actor: Staff, channel: str, note: str = "") -> Customer:
    """Record a contact with the customer (客户联系); the first one after assignment meets the
    7-day first-contact rule. The owner or a supervisor and above."""
    if actor.id != customer.owner_id and actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有客户专员或主管及以上可以记录联系"))
    if channel not in CONTACT_CHANNELS:
        raise ValidationFailed(_("请选择联系方式"), field="channel")
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationFailed(_("说明不能超过 500 字"), field="note")
    now = timezone.now()
    with transaction.atomic():
        if customer.first_contacted_at is None and customer.owner_id is not None:
            Customer.objects.filter(pk=customer.pk, first_contacted_at__isnull=True).update(first_contacted_at=now)
            customer.first_contacted_at = now
        CustomerEvent.objects.create(
            customer=customer, actor=actor, at=now, type="contacted", data={"channel": channel, "note": note}
        )
    return customer


def first_contact_overdue_sweep(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Tell each owner (and their superior) once about a customer not contacted within 7 days.
    Claimed by a conditional UPDATE of ``first_contact_warned_at``."""
    now = now or timezone.now()
    due = list(
        Customer.objects.filter(
            first_contacted_at__isnull=True,
            first_contact_warned_at__isnull=True,
            first_contact_due__lt=now,
            owner__isnull=False,
        ).values_list("id", flat=True)[:limit]
    )
    told = 0
    for pk in due:
        with transaction.atomic():
            if not Customer.objects.filter(pk=pk, first_contact_warned_at__isnull=True).update(
                first_contact_warned_at=now
            ):
                continue
            customer = Customer.objects.select_related("owner__superior", "site").get(pk=pk)
            owner = customer.owner
            if owner is None:
                continue
            notify(
                recipients=[owner, *([owner.superior] if owner.superior else [])],
                event="customer.first_contact",
                title=_("首次联系超期：{name}").format(name=customer.name),
                body=_("{owner} 负责的客户 {name} 分配已满 {days} 天，尚未首次联系。").format(
                    owner=owner.name, name=customer.name, days=FIRST_CONTACT_DAYS
                ),
                link=f"/customers/{customer.pk}/",
                ref=f"customer:{customer.pk}",
                site=customer.site,
            )
            told += 1
    return told
