"""REST endpoints of customer records: search, read, create and update (optimistic locking).

Scope and rules are the same as the UI's: ``customers_for`` / ``customer_get_for_user`` for
reads (another site's record is a 404), ``customer_create`` / ``customer_update`` for writes.
Phone numbers are masked for roles without ``customers.see_phone``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
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
    Str2000,
    Version,
    page,
    ref,
    renamed,
)
from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.phones import mask
from kefu.org.models import Site, Staff
from kefu.org.permissions import can

from .models import Customer, CustomerUnit
from .queries import customer_get_for_user, customers_for, search_customers, with_list_columns
from .services import CustomerData, UnitLink, customer_create, customer_update

router = Router(tags=["客户"])

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
    site = Site.objects.filter(pk=payload.site_id, is_active=True).first()
    if site is None:
        raise ValidationFailed("项目不存在", field="site_id")
    try:
        customer = customer_create(site=site, data=payload.to_data(), actor=staff)
    except DomainError as exc:
        raise renamed(exc, {"site": "site_id"}) from None
    return 201, _detail(staff, customer)


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
