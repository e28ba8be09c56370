"""Every write to a customer record; each records what changed in the history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.validators import validate_email
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.phones import is_valid, last4, normalize
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from .models import Customer, CustomerEvent, CustomerPhone, CustomerUnit, Tag, Unit

CONFLICT_MESSAGE = "保存失败：该客户资料已被他人修改，请刷新后重试"


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


def clean_customer_data(data: CustomerData) -> CustomerData:
    """Normalise ``data`` and raise ValidationFailed with every field's Chinese message."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    data.name = (data.name or "").strip()
    if not data.name:
        err("name", "姓名不能为空")
    elif len(data.name) > 100:
        err("name", "姓名不能超过 100 字")
    if data.kind not in Customer.Kind.values:
        err("kind", "客户类型不正确")
    if data.gender not in Customer.Gender.values:
        err("gender", "性别不正确")
    if data.source not in Customer.Source.values:
        err("source", "客户来源不正确")
    phones: list[str] = []
    for raw in data.phones:
        if not (raw or "").strip():
            continue
        number = normalize(raw)
        if not is_valid(number):
            err("phones", f"手机号码格式不正确：{raw}")
        elif number not in phones:
            phones.append(number)
    if not phones and not errors.get("phones"):
        err("phones", "请至少填写一个联系电话")
    data.phones = phones[:5]
    data.email = (data.email or "").strip()
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            err("email", "邮箱格式不正确")
    for link in data.units:
        link.building, link.entrance, link.room = (
            (link.building or "").strip(),
            (link.entrance or "").strip(),
            (link.room or "").strip(),
        )
        if not link.building or not link.room:
            err("units", "房屋请填写楼栋和房号")
        elif max(len(link.building), len(link.entrance), len(link.room)) > 20:
            err("units", "楼栋、单元、房号均不能超过 20 个字符")
        if link.relation not in CustomerUnit.Relation.values:
            err("units", "与房屋的关系不正确")
    data.tags = [t.strip() for t in data.tags if t and t.strip()]
    if any(len(t) > 20 for t in data.tags):
        err("tags", "标签不能超过 20 个字")
    data.contact_person = (data.contact_person or "").strip()[:50]
    data.note = (data.note or "").strip()
    if len(data.note) > 2000:
        err("note", "备注不能超过 2000 字")
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return data


def _check_site(actor: Staff, site: Site) -> None:
    if not can(actor.role, "customers.edit"):
        raise PermissionDenied("您没有编辑客户资料的权限")
    if site.id not in site_ids_for(actor):
        raise PermissionDenied("无权在该项目建档")


def customer_create(*, site: Site, data: CustomerData, actor: Staff, source_event: str = "created") -> Customer:
    _check_site(actor, site)
    data = clean_customer_data(data)
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
            created_by=actor,
        )
        _set_phones(customer, data.phones)
        _set_units(customer, data.units)
        _set_tags(customer, data.tags)
        CustomerEvent.objects.create(customer=customer, actor=actor, type=source_event, data=_snapshot(customer))
    return customer


_TRACKED = ("kind", "name", "gender", "contact_person", "email", "source", "note")


def customer_update(*, customer: Customer, data: CustomerData, actor: Staff, version: int) -> Customer:
    """Update a record if nobody saved it since ``version``; history keeps before/after."""
    _check_site(actor, customer.site)
    data = clean_customer_data(data)
    before = _snapshot(customer)
    with transaction.atomic():
        values = {name: getattr(data, name) for name in _TRACKED}
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
        unit, _ = Unit.objects.get_or_create(
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
