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
    q: Str100 = Field(
        "",
        description=(
            "全文检索：工单号、电话（完整或尾号四位）、房号（如 1-2-301）、姓名、内容或备注中的词；"
            "多个词须同时出现，引号内为短语"
        ),
    )
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
    ordering: Literal["-created_at", "resolve_due", "relevance"] | None = Field(
        None, description="排序；不填时有 q 按相关度（relevance），否则按受理时间倒序"
    )
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


class ProposalOut(Schema):
    id: int
    round: int
    text: str
    state: str
    state_label: str
    proposed_by: Ref | None
    proposed_at: datetime
    decided_by: Ref | None
    decided_at: datetime | None
    decision_note: str


class ComplaintOut(Schema):
    step: int = Field(description="当前步骤 1–6，7 表示已结束")
    valid: bool | None
    judgment: str
    judged_by: Ref | None
    judged_at: datetime | None
    cause: str
    responsible_department: Ref | None
    responsible_person: Ref | None
    investigated_at: datetime | None
    round: int
    proposals: list[ProposalOut]
    chosen_id: int | None
    instruction: str
    approved_by: Ref | None
    approved_at: datetime | None
    implementation: str
    penalty: str
    penalty_amount: Decimal | None
    notify_method: str
    customer_notified_at: datetime | None
    implemented_at: datetime | None
    refusals: int
    classification: CategoryRef | None
    root_cause: str
    improvement: str
    summarized_at: datetime | None


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
    is_major: bool
    major_reason: str
    complaint: ComplaintOut | None = Field(None, description="投诉六步的记录（仅投诉）")


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
    auto_dispatch: bool = Field(True, description="分类有派单规则时自动派单（投诉先判定，不自动派单）")
    major: bool = Field(False, description="投诉：标记为重大投诉，立即通知经理和总监")


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
    at: datetime | None = Field(None, description="客户确认的时间（如现场签字的时间），不填为现在")


class JudgeIn(Schema):
    version: Version
    valid: bool = Field(description="true 投诉成立；false 不成立（reason 即给客户的答复，投诉关闭）")
    reason: Str5000
    department_id: Id | None = Field(None, description="成立时可交由调查的部门")
    assignee_id: Id | None = Field(None, description="成立时可交由调查的人")


class InvestigateIn(Schema):
    version: Version
    cause: Str5000
    responsible_department_id: Id
    responsible_person_id: Id | None = None


class ProposeIn(Schema):
    version: Version
    proposals: list[Str2000] = Field(min_length=1, max_length=5, description="一个或多个处理方案")


class ApproveIn(Schema):
    version: Version
    proposal_id: Id
    instruction: Str2000 = Field(description="批示意见")


class ImplementIn(Schema):
    version: Version
    implementation: Str5000
    notify_method: Literal["phone", "onsite", "sms", "wechat", "letter"]
    penalty: Str300 = Field("", description="对责任人的处理")
    penalty_amount: Decimal | None = Field(None, description="处罚金额（元）")
    notified_at: datetime | None = Field(None, description="通知客户的时间，不填为现在")


class SummarizeIn(Schema):
    version: Version
    classification_id: Id = Field(description="投诉分类（适用于投诉的分类节点）")
    root_cause: Str5000
    improvement: Str5000


class MajorIn(Schema):
    version: Version
    reason: Str200


class CommentIn(Schema):
    text: Str5000
    public: bool = Field(False, description="true：答复客户（客户可见）；false：内部备注")
    version: Version | None = Field(None, description="可选；填写时与当前版本不一致则返回 409")


# --- output -------------------------------------------------------------------------------
