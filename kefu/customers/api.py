"""REST endpoints of customer records: search, read, create and update (optimistic locking),
and ownership (客户归属): assignment, hand-over when an agent leaves, contacts and the first
contacts still to make.

Scope and rules are the same as the UI's: ``customers_for`` / ``customer_get_for_user`` for
reads (another site's record is a 404), ``customer_create`` / ``customer_update`` for writes,
``customer_assign`` / ``customers_reassign_from`` / ``customer_contact_record`` for ownership.
Phone numbers are masked for roles without ``customers.see_phone``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import (
    ErrorOut,
    Id,
    Limit,
    Offset,
    Ref,
    Str20,
    Str30,
    Str50,
    Str100,
    Str254,
    Str500,
    Str2000,
    Version,
    page,
    ref,
    renamed,
)
from kefu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.core.phones import mask
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import site_by_id, staff_in_scope

from .models import Customer, CustomerUnit
from .queries import customer_get_for_user, customers_for, first_contacts_pending, search_customers, with_list_columns
from .services import (
    CustomerData,
    UnitLink,
    customer_assign,
    customer_contact_record,
    customer_create,
    customer_update,
    customers_reassign_from,
)

router = Router(tags=["客户"])
_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

# Apps to the right of customers add to the detail without being imported here (STYLE.md:
# arrows point left): tickets registers the provider of a customer's recent tickets.
RecentTicketsProvider = Callable[[Staff, Customer], list[dict[str, Any]]]
recent_ticket_providers: list[RecentTicketsProvider] = []


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def phone_for(staff: Staff, number: str) -> str:
    """``number`` as ``staff`` may see it: whole, or masked (138****1234)."""
    return number if can(staff.role, "customers.see_phone") else mask(number)


# --- schemas ------------------------------------------------------------------------------


class CustomerFilters(Schema):
    q: Str100 = Field("", description="姓名、联系人、电话（完整或尾号四位）或房号（如 1-2-301）")
    site: Id | None = None
    tag: Id | None = None
    kind: Customer.Kind | None = None
    limit: Limit = 20
    offset: Offset = 0


class CustomerRow(Schema):
    id: int
    site: Ref
    kind: str
    kind_label: str
    name: str
    contact_person: str
    phone: str
    units: list[str]
    tags: list[str]
    is_active: bool
    created_at: datetime
    version: int


class CustomerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CustomerRow]


class PhoneOut(Schema):
    number: str
    label: str
    is_primary: bool


class UnitOut(Schema):
    id: int
    label: str
    building: str
    entrance: str
    room: str
    relation: str
    relation_label: str


class TagOut(Schema):
    id: int
    name: str
    color: str


class RecentTicketOut(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    created_at: datetime


class CustomerOut(Schema):
    id: int
    site: Ref
    kind: str
    kind_label: str
    name: str
    gender: str
    gender_label: str
    contact_person: str
    email: str
    source: str
    source_label: str
    note: str
    is_active: bool
    phones: list[PhoneOut]
    units: list[UnitOut]
    tags: list[TagOut]
    created_at: datetime
    updated_at: datetime
    version: int
    recent_tickets: list[RecentTicketOut]


class UnitIn(Schema):
    building: Str20
    entrance: Str20 = ""
    room: Str20
    relation: CustomerUnit.Relation = CustomerUnit.Relation.OWNER


class CustomerIn(Schema):
    name: Str100
    kind: Customer.Kind = Customer.Kind.PERSON
    phones: Annotated[list[Str30], Field(max_length=5)] = Field(default_factory=list, description="第一个为主号码")
    units: Annotated[list[UnitIn], Field(max_length=20)] = Field(default_factory=list)
    tags: Annotated[list[Str20], Field(max_length=10)] = Field(default_factory=list, description="标签名称")
    gender: Customer.Gender = Customer.Gender.UNKNOWN
    contact_person: Str50 = ""
    email: Str254 = ""
    source: Customer.Source = Customer.Source.OTHER
    note: Str2000 = ""

    def to_data(self) -> CustomerData:
        return CustomerData(
            name=self.name,
            kind=self.kind,
            phones=list(self.phones),
            units=[UnitLink(u.building, u.entrance, u.room, u.relation) for u in self.units],
            tags=list(self.tags),
            gender=self.gender,
            contact_person=self.contact_person,
            email=self.email,
            source=self.source,
            note=self.note,
        )


class CustomerCreateIn(CustomerIn):
    site_id: Id


class CustomerUpdateIn(CustomerIn):
    """The whole record: phones, units and tags replace the stored ones."""

    version: Version


class OwnerAssignIn(Schema):
    customer_ids: list[Id] = Field(min_length=1, max_length=500, description="要分配的客户，1–500 个")
    to_id: Id | None = Field(None, description="客户专员；不填则分给各项目客户最少的客服专员（兼顾技能与客户标签）")


class OwnerReassignIn(Schema):
    from_id: Id = Field(description="离职或调岗的客户专员")
    to_id: Id | None = Field(None, description="接手人；不填则均衡分给各项目的其他客服专员")


class OwnerAssignOut(Schema):
    given: int = Field(description="换了客户专员的客户数（已归属接手人的不计）")


class ContactIn(Schema):
    channel: Literal["phone", "visit", "wechat", "meeting"] = Field(
        description="phone 电话；visit 上门拜访；wechat 微信；meeting 来访面谈"
    )
    note: Str500 = ""


class ContactOut(Schema):
    customer: Ref
    owner: Ref | None = Field(description="客户专员")
    owner_since: datetime | None = Field(description="分配时间")
    first_contact_due: datetime | None = Field(description="首次联系期限（分配后 7 天）")
    first_contacted_at: datetime | None = Field(description="首次联系时间")


class FirstContactFilters(Schema):
    site: Id | None = Field(None, description="只看该项目")
    overdue: bool | None = Field(None, description="true 只看已超过 7 天的；false 只看仍在 7 天内的；不填全部")
    limit: Limit = 20
    offset: Offset = 0


class FirstContactRow(Schema):
    id: int
    name: str
    site: Ref
    owner: Ref
    owner_since: datetime | None = Field(description="分配时间")
    first_contact_due: datetime | None = Field(description="首次联系期限")
    overdue: bool = Field(description="已超期")


class FirstContactPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FirstContactRow]


# --- output -------------------------------------------------------------------------------


def _row(staff: Staff, c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "site": ref(c.site),
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "name": c.name,
        "contact_person": c.contact_person,
        "phone": phone_for(staff, c.primary_phone),
        "units": [link.unit.label for link in c.unit_links.all()],
        "tags": [t.name for t in c.tags.all()],
        "is_active": c.is_active,
        "created_at": c.created_at,
        "version": c.version,
    }


def _detail(staff: Staff, c: Customer) -> dict[str, Any]:
    links = c.unit_links.select_related("unit").order_by("unit__building", "unit__entrance", "unit__room")
    recent: list[dict[str, Any]] = []
    for provider in recent_ticket_providers:
        recent.extend(provider(staff, c))
    return {
        "id": c.id,
        "site": ref(c.site),
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "name": c.name,
        "gender": c.gender,
        "gender_label": c.get_gender_display(),
        "contact_person": c.contact_person,
        "email": c.email,
        "source": c.source,
        "source_label": c.get_source_display(),
        "note": c.note,
        "is_active": c.is_active,
        "phones": [
            {"number": phone_for(staff, p.number), "label": p.label, "is_primary": p.is_primary}
            for p in c.phones.order_by("-is_primary", "id")
        ],
        "units": [
            {
                "id": link.unit.id,
                "label": link.unit.label,
                "building": link.unit.building,
                "entrance": link.unit.entrance,
                "room": link.unit.room,
                "relation": link.relation,
                "relation_label": link.get_relation_display(),
            }
            for link in links
        ],
        "tags": [{"id": t.id, "name": t.name, "color": t.color} for t in c.tags.all()],
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "version": c.version,
        "recent_tickets": recent,
    }


def _supervising(staff: Staff) -> None:
    if staff.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以分配客户"))


def _colleague(staff: Staff, pk: int | None, field: str) -> Staff | None:
    """A colleague of ``staff`` by id (None for None); a stranger is refused on ``field``."""
    if pk is None:
        return None
    colleague = by_pk(staff_in_scope(staff), pk)
    if colleague is None:
        raise ValidationFailed(_("员工不存在或不在您负责的项目"), field=field)
    return colleague


def _contact_state(c: Customer) -> dict[str, Any]:
    return {
        "customer": ref(c),
        "owner": ref(c.owner),
        "owner_since": c.owner_since,
        "first_contact_due": c.first_contact_due,
        "first_contacted_at": c.first_contacted_at,
    }


# --- endpoints ----------------------------------------------------------------------------


@router.get("/customers", response={200: CustomerPage, 401: ErrorOut, 422: ErrorOut}, summary="查找客户")
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    staff = _me(request)
    params = {"q": filters.q, "site": filters.site, "tag": filters.tag, "kind": filters.kind}
    qs = with_list_columns(search_customers(customers_for(staff), params)).order_by("-id")
    count, rows = page(qs, filters.limit, filters.offset)
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_row(staff, c) for c in rows],
    }


@router.post(
    "/customers",
    response={201: CustomerOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="新建客户档案",
)
def customer_add(request: HttpRequest, payload: CustomerCreateIn) -> tuple[int, dict[str, Any]]:
    staff = _me(request)
    # Which sites exist is no secret; whether the caller may write there is the service's rule.
    site = site_by_id(payload.site_id)
    if site is None:
        raise ValidationFailed("项目不存在", field="site_id")
    try:
        customer = customer_create(site=site, data=payload.to_data(), actor=staff)
    except DomainError as exc:
        raise renamed(exc, {"site": "site_id"}) from None
    return 201, _detail(staff, customer)


# The fixed paths below come before /customers/{customer_id}: URL patterns are tried in
# order, and "assign" would otherwise be read as a customer id.


@router.post("/customers/assign", response={200: OwnerAssignOut, **_ERRORS}, summary="分配客户")
def customers_assign(request: HttpRequest, payload: OwnerAssignIn) -> dict[str, Any]:
    """把客户分给一位客户专员，或（不填 to_id）分给各项目客户最少的客服专员；新的客户专员须在 7 天内
    首次联系（主管及以上）。有客户不在您负责的项目时返回 404，不做任何分配。"""
    staff = _me(request)
    wanted = set(payload.customer_ids)
    # In the list's order (newest first), as the ownership page gives them out.
    customers = list(customers_for(staff).filter(pk__in=wanted).select_related("owner").prefetch_related("tags"))
    if len(customers) != len(wanted):
        raise NotFound(_("客户不存在"))
    to = _colleague(staff, payload.to_id, "to_id")
    try:
        given = customer_assign(customers=customers, actor=staff, to=to)
    except DomainError as exc:
        raise renamed(exc, {"to": "to_id"}) from None
    return {"given": given}


@router.post("/customers/reassign", response={200: OwnerAssignOut, **_ERRORS}, summary="离职交接")
def customers_reassign(request: HttpRequest, payload: OwnerReassignIn) -> dict[str, Any]:
    """一位客户专员离职或调岗：其在您负责的项目中的全部客户交给接手人，或均衡分给其他客服专员（主管及以上）。"""
    staff = _me(request)
    leaver = _colleague(staff, payload.from_id, "from_id")
    assert leaver is not None
    to = _colleague(staff, payload.to_id, "to_id")
    try:
        given = customers_reassign_from(from_staff=leaver, actor=staff, to=to)
    except DomainError as exc:
        raise renamed(exc, {"to": "to_id"}) from None
    return {"given": given}


@router.get("/customers/first-contacts", response={200: FirstContactPage, **_ERRORS}, summary="待首次联系的客户")
def first_contacts(request: HttpRequest, filters: Query[FirstContactFilters]) -> dict[str, Any]:
    """已分配、尚未首次联系的客户，等待最久的在前；分配后 7 天内须首次联系（主管及以上）。"""
    staff = _me(request)
    _supervising(staff)
    now = timezone.now()
    qs = customers_for(staff)
    if filters.site is not None:
        qs = qs.filter(site_id=filters.site)
    qs = first_contacts_pending(qs, now, overdue=filters.overdue)
    count, rows = page(qs, filters.limit, filters.offset)
    items = [
        {
            "id": c.id,
            "name": c.name,
            "site": ref(c.site),
            "owner": ref(c.owner),
            "owner_since": c.owner_since,
            "first_contact_due": c.first_contact_due,
            "overdue": c.first_contact_due is not None and c.first_contact_due < now,
        }
        for c in rows
    ]
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="客户档案",
)
def customer_detail(request: HttpRequest, customer_id: Id) -> dict[str, Any]:
    """客户档案：电话、房屋、标签和最近的工单。"""
    staff = _me(request)
    return _detail(staff, customer_get_for_user(staff=staff, pk=customer_id))


@router.put(
    "/customers/{customer_id}",
    response={200: CustomerOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="修改客户档案",
)
def customer_edit(request: HttpRequest, customer_id: Id, payload: CustomerUpdateIn) -> dict[str, Any]:
    """整条记录替换（电话、房屋、标签以提交的为准）。`version` 与当前不一致时返回 409。"""
    staff = _me(request)
    customer = customer_get_for_user(staff=staff, pk=customer_id)
    customer = customer_update(customer=customer, data=payload.to_data(), actor=staff, version=payload.version)
    return _detail(staff, customer)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **_ERRORS}, summary="记录客户联系")
def customer_contact(request: HttpRequest, customer_id: Id, payload: ContactIn) -> tuple[int, dict[str, Any]]:
    """客户专员或主管及以上记录一次与客户的联系；分配后的第一次联系即满足 7 天内首次联系的要求。"""
    staff = _me(request)
    customer = customer_get_for_user(staff=staff, pk=customer_id)
    customer = customer_contact_record(customer=customer, actor=staff, channel=payload.channel, note=payload.note)
    return 201, _contact_state(Customer.objects.select_related("owner").get(pk=customer.pk))
