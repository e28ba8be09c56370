"""Input and output schemas of the ticket API (the OpenAPI shapes)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from kefu.core.api import (
    Id,
    Limit,
    Offset,
    Ref,
    Str30,
    Str50,
    Str100,
    Str200,
    Str300,
    Str2000,
    Str5000,
    Version,
)

from .lifecycle import Kind, Status
from .models import Channel, Urgency


class TicketFilters(Schema):
    q: Str100 = Field("", description="工单号、内容、联系人、客户名或电话（完整或尾号四位）")
    kind: Kind | None = None
    status: Status | None = None
    channel: Channel | None = None
    urgency: Urgency | None = None
    site: Id | None = None
    category: Id | None = None
    department: Id | None = None
    assignee: Id | None = None
    customer: Id | None = None
    open: bool = Field(False, description="只看未结束的")
    overdue: bool = Field(False, description="只看已超时的")
    date_from: date | None = Field(None, description="受理日期起，YYYY-MM-DD")
    date_to: date | None = Field(None, description="受理日期止，YYYY-MM-DD")
    ordering: Literal["-created_at", "resolve_due"] = "-created_at"
    limit: Limit = 20
    offset: Offset = 0


class CategoryRef(Schema):
    id: int
    path: str


class UnitRef(Schema):
    id: int
    label: str


class ContactOut(Schema):
    name: str
    phone: str


class TicketRow(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    channel: str
    channel_label: str
    urgency: str
    urgency_label: str
    site: Ref
    category: CategoryRef | None
    customer: Ref | None
    contact: ContactOut
    department: Ref | None
    assignee: Ref | None
    first_responder: Ref
    created_at: datetime
    respond_due: datetime | None
    resolve_due: datetime | None
    overdue: bool
    version: int


class TicketPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TicketRow]


class EventOut(Schema):
    id: int
    type: str
    actor: Ref | None
    at: datetime
    visibility: str
    visibility_label: str
    from_status: str
    to_status: str
    note: str
    data: dict[str, Any]


class AssignmentOut(Schema):
    id: int
    mode: str
    mode_label: str
    from_department: Ref | None
    from_assignee: Ref | None
    to_department: Ref | None
    to_assignee: Ref | None
    by: Ref | None
    reason: str
    at: datetime


class ActionOut(Schema):
    code: str
    label: str


class TicketOut(TicketRow):
    content: str
    unit: UnitRef | None
    updated_at: datetime
    responded_at: datetime | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    confirmed_at: datetime | None
    closed_at: datetime | None
    suspended_from: str
    first_contact_resolved: bool
    reopen_count: int
    cancel_reason: str
    work_notes: str
    materials: str
    work_hours: Decimal | None
    is_paid: bool
    fee: Decimal | None
    confirmed_by: str
    confirm_method: str
    events: list[EventOut]
    assignments: list[AssignmentOut]
    allowed_actions: list[ActionOut]


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    depth: int
    kinds: list[str]
    department_id: int | None
    skill_id: int | None


class TicketIn(Schema):
    site_id: Id
    kind: Kind
    channel: Channel
    content: Str5000
    urgency: Urgency = Urgency.LOW
    category_id: Id | None = None
    customer_id: Id | None = None
    unit_id: Id | None = None
    contact_name: Str50 = ""
    contact_phone: Str30 = ""
    answer: Str5000 = Field("", description="咨询在受理时直接答复：填写后工单即办结（一次解决）")
    auto_dispatch: bool = Field(True, description="分类有派单规则时自动派单")


class DispatchIn(Schema):
    version: Version
    department_id: Id | None = Field(None, description="部门与处理人都不填时按分类规则自动派单")
    assignee_id: Id | None = None
    reason: Str200 = ""


class TransferIn(Schema):
    version: Version
    reason: Str200
    department_id: Id | None = None
    assignee_id: Id | None = None


class NoteIn(Schema):
    version: Version
    note: Str5000 = ""


class ReasonIn(Schema):
    version: Version
    reason: Str2000


class CompleteIn(Schema):
    version: Version
    note: Str5000 = Field("", description="处理结果（非报修工单必填）")
    work_notes: Str5000 = Field("", description="维修记录（报修必填）")
    materials: Str300 = ""
    work_hours: Decimal | None = Field(None, description="工时（小时）")
    is_paid: bool = False
    fee: Decimal | None = Field(None, description="有偿服务的费用（元）")


class ConfirmIn(Schema):
    version: Version
    confirmed_by: Str50
    method: Literal["phone", "onsite", "link"] = Field(description="phone 电话确认 · onsite 现场签字 · link 链接确认")
    note: Str5000 = ""


class CommentIn(Schema):
    text: Str5000
    public: bool = Field(False, description="true：答复客户（客户可见）；false：内部备注")
    version: Version | None = Field(None, description="可选；填写时与当前版本不一致则返回 409")


# --- output -------------------------------------------------------------------------------
