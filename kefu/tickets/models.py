from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.db.models.sql.where import ExtraWhere, WhereNode
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer, Unit
from kefu.org.models import Department, Site, Skill, Staff

from .lifecycle import DONE_FOR_SLA, ENDED, IN_HAND, STATUS_COLORS, Kind, Status


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("来访")
    WEB = "web", _("网页")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    PATROL = "patrol", _("巡查")
    APP = "app", _("App")


class Urgency(models.TextChoices):
    LOW = "low", _("一般")
    NORMAL = "normal", _("较急")
    HIGH = "high", _("紧急")
    CRITICAL = "critical", _("特急")


class Category(models.Model):
    """A node of the configurable category tree (报事分类), with its dispatch rule.

    ``department`` and ``skill`` say where auto-dispatch sends the ticket; a node without
    them inherits its parent's.
    """

    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("分类名称"), max_length=50)
    kinds = models.JSONField(_("适用类型"), default=list, blank=True, help_text=_("为空表示适用全部类型"))
    department = models.ForeignKey(
        Department, verbose_name=_("派往部门"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    skill = models.ForeignKey(Skill, verbose_name=_("所需技能"), on_delete=models.SET_NULL, null=True, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_major = models.BooleanField(
        _("重大投诉分类"), default=False, help_text=_("该分类（含下级）的投诉一律按重大投诉处理")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("报事分类")
        verbose_name_plural = _("报事分类")
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    @property
    def marks_major(self) -> bool:
        node: Category | None = self
        while node is not None:
            if node.is_major:
                return True
            node = node.parent
        return False


class SlaPolicy(models.Model):
    """Time limits (时限标准) per kind × urgency, for one site or (site empty) for every site
    without its own row: minutes to respond, to arrive (repairs) and to resolve, counted in
    business hours of the site's calendar or in plain calendar time."""

    site = models.ForeignKey(
        Site, verbose_name=_("项目"), on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policies"
    )
    kind = models.CharField(_("工单类型"), max_length=20, choices=Kind.choices)
    urgency = models.CharField(_("紧急程度"), max_length=20, choices=Urgency.choices)
    respond_minutes = models.PositiveIntegerField(_("响应时限(分钟)"))
    arrive_minutes = models.PositiveIntegerField(_("到场时限(分钟)"), null=True, blank=True)
    resolve_minutes = models.PositiveIntegerField(_("办结时限(分钟)"))
    visit_minutes = models.PositiveIntegerField(
        _("回访时限(分钟)"), null=True, blank=True, help_text=_("完成后多久内回访，为空则按 3 天")
    )
    business_hours = models.BooleanField(_("按工作时间计算"), default=False)

    class Meta:
        verbose_name = _("时限标准")
        verbose_name_plural = _("时限标准")
        constraints = [
            # NULL never equals NULL in a unique index, so the company-wide rows need their own.
            models.UniqueConstraint(
                fields=["kind", "urgency"], condition=Q(site__isnull=True), name="sla_policy_unique_default"
            ),
            models.UniqueConstraint(
                fields=["site", "kind", "urgency"], condition=Q(site__isnull=False), name="sla_policy_unique_site"
            ),
        ]


class WarningRules(models.Model):
    """When warning cards are issued and who is told (SPEC §3.3, seed 000), for one site or
    (site empty) for every site without its own row."""

    site = models.OneToOneField(
        Site, verbose_name=_("项目"), on_delete=models.CASCADE, null=True, blank=True, related_name="warning_rules"
    )
    blue_minutes = models.PositiveIntegerField(
        _("蓝牌：交办后未反馈(分钟)"), default=60, help_text=_("交给处理人后这么久没有任何反馈，发蓝牌")
    )
    prewarn_percent = models.PositiveSmallIntegerField(
        _("预警：时限已过(%)"), default=80, help_text=_("时限用去这个比例时提醒处理人")
    )
    manager_after_minutes = models.PositiveIntegerField(_("超时后升级到经理(分钟)"), default=120)
    director_after_minutes = models.PositiveIntegerField(_("超时后升级到总监(分钟)"), default=480)
    red_after_minutes = models.PositiveIntegerField(
        _("红牌：超时后仍未办结(分钟)"), default=24 * 60, help_text=_("办结期限过后这么久仍未办结，发红牌")
    )

    class Meta:
        verbose_name = _("警告规则")
        verbose_name_plural = _("警告规则")
        constraints = [
            # One company-wide row: NULL never equals NULL, so compare the site as 0.
            models.UniqueConstraint(Coalesce("site", models.Value(0)), name="warning_rules_one_per_site"),
            models.CheckConstraint(
                condition=Q(prewarn_percent__gte=1, prewarn_percent__lte=99), name="warning_rules_prewarn_percent"
            ),
        ]

    def __str__(self) -> str:
        return str(self.site or _("全公司"))


# What the period reports read of a ticket besides its site and its date (decision 0006):
# the filters and groupings (kind, channel, category, department, people) and the figures.
RECEIPT_REPORT_COLUMNS = (
    "kind", "status", "channel", "category", "department", "assignee", "first_responder",
    "first_contact_resolved", "respond_due", "responded_at", "respond_delta", "arrive_due", "arrived_at",
    "arrive_delta", "resolve_due", "completed_at", "resolve_delta",
)  # fmt: skip
LIST_FILTER_COLUMNS = ("status", "kind", "category", "assignee", "department", "urgency")
COMPLETION_REPORT_COLUMNS = (
    "kind", "status", "category", "department", "assignee", "first_responder", "reopen_count", "handling_minutes",
)  # fmt: skip


def _swapped(where: WhereNode, old: str, new: str) -> WhereNode:
    """``where`` with the extra() condition ``old`` written as ``new`` (a copy: a cloned
    query shares its ExtraWhere nodes with the original)."""
    where = where.clone()
    children: list[Any] = []
    for child in where.children:
        node: Any = child
        if isinstance(node, WhereNode):
            node = _swapped(node, old, new)
        elif isinstance(node, ExtraWhere) and old in node.sqls:
            node = ExtraWhere([new if sql == old else sql for sql in node.sqls], node.params)
        children.append(node)
    where.children = children
    return where


class TicketQuerySet(models.QuerySet["Ticket"]):
    # A search's condition as its page asks it, and as a count should (``search.search``):
    # kept through every later filter and ordering.
    count_condition: tuple[str, str] | None = None

    def _clone(self) -> TicketQuerySet:
        clone = super()._clone()  # type: ignore[misc]
        clone.count_condition = self.count_condition
        return clone  # type: ignore[no-any-return]

    def capped_count(self, limit: int) -> int:
        """How many rows, counting at most ``limit``: unordered and only the ids, so the
        database stops there and ranks none. A newest-first search on PostgreSQL is counted
        through the GIN index (``@@``) instead of its page's row-by-row test
        (``ts_match_vq``): 42–356 ms → 18–46 ms for a capped count at 1M (bench/RESULTS.md)."""
        counted = self.order_by().values("pk")
        if self.count_condition is not None:
            page_sql, count_sql = self.count_condition
            counted.query.where = _swapped(counted.query.where, page_sql, count_sql)
        return counted[:limit].count()

    def open(self) -> TicketQuerySet:
        return self.exclude(status__in=ENDED)

    def in_hand(self) -> TicketQuerySet:
        """Tickets whose handler's part is not done: the resolution clock still runs (unless
        suspended). Named by the statuses they are in, not by those they are not in, so that
        (site, status) probes of the index ``ticket_in_hand`` find them on every database."""
        return self.filter(status__in=IN_HAND)

    def overdue(self, now: object = None) -> TicketQuerySet:
        now = now or timezone.now()
        return self.in_hand().filter(resolve_due__lt=now)

    def due_soon(self, now: object = None, hours: int = 4) -> TicketQuerySet:
        now = now or timezone.now()
        return self.exclude(status__in=DONE_FOR_SLA).filter(
            resolve_due__gte=now,
            resolve_due__lt=now + timedelta(hours=hours),  # type: ignore[operator]
        )


class Ticket(models.Model):
    """A ticket (工单/报事) of any kind, from intake to close."""

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="tickets")
    number = models.CharField(_("工单号"), max_length=30)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, verbose_name=_("分类"), on_delete=models.PROTECT, null=True, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=20, choices=Urgency.choices, default=Urgency.LOW)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.NEW)
    suspended_from = models.CharField(max_length=20, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    content = models.TextField(_("内容"))

    first_responder = models.ForeignKey(
        Staff, verbose_name=_("首问责任人"), on_delete=models.PROTECT, related_name="first_response_tickets"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("处理部门"), on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    assignee = models.ForeignKey(
        Staff,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )

    created_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    respond_due = models.DateTimeField(_("响应期限"), null=True, blank=True)
    arrive_due = models.DateTimeField(_("到场期限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    # Once a deadline is met: minutes from the deadline to the moment it was met (negative =
    # early by so much, positive = late by so much).
    respond_delta = models.IntegerField(_("响应偏差(分钟)"), null=True, blank=True)
    arrive_delta = models.IntegerField(_("到场偏差(分钟)"), null=True, blank=True)
    resolve_delta = models.IntegerField(_("办结偏差(分钟)"), null=True, blank=True)
    # Business minutes from receipt to completion (the site's calendar), for the workload reports.
    handling_minutes = models.PositiveIntegerField(_("处理用时(工作分钟)"), null=True, blank=True)
    # The warning engine: when the handler must next report progress (blue card). When the
    # sweep must next look at the ticket, and which of its warnings are done: ``clock``.
    progress_due = models.DateTimeField(_("反馈期限"), null=True, blank=True)

    # A ticket opened because of another (a complaint after a dissatisfied return visit).
    origin = models.ForeignKey(
        "self", verbose_name=_("来源工单"), on_delete=models.SET_NULL, null=True, blank=True, related_name="followups"
    )
    # 重大投诉: flagged at intake or by rule; the reasons are kept in words.
    is_major = models.BooleanField(_("重大投诉"), default=False)
    major_reason = models.CharField(_("重大投诉原因"), max_length=200, blank=True)

    first_contact_resolved = models.BooleanField(_("一次解决"), default=False)
    reopen_count = models.PositiveIntegerField(_("重开次数"), default=0)
    cancel_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    # Repair field report (完工).
    work_notes = models.TextField(_("维修记录"), blank=True)
    materials = models.CharField(_("使用材料"), max_length=300, blank=True)
    work_hours = models.DecimalField(_("工时(小时)"), max_digits=6, decimal_places=2, null=True, blank=True)
    is_paid = models.BooleanField(_("有偿服务"), default=False)
    fee = models.DecimalField(_("费用(元)"), max_digits=10, decimal_places=2, null=True, blank=True)

    # Customer confirmation (业主确认), and the customer's own rating of the service.
    confirmed_by = models.CharField(_("确认人"), max_length=50, blank=True)
    confirm_method = models.CharField(_("确认方式"), max_length=20, blank=True)
    rating = models.PositiveSmallIntegerField(_("服务评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    rated_staff = models.ForeignKey(
        Staff, verbose_name=_("被评价人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="ratings"
    )

    version = models.PositiveIntegerField(default=1)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="ticket_number_unique_per_site"),
            models.CheckConstraint(condition=Q(fee__isnull=True) | Q(fee__gte=0), name="ticket_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="ticket_rating_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status", "-created_at"], name="ticket_site_status_created"),
            models.Index(fields=["department", "status"], name="ticket_department_status"),
            models.Index(fields=["first_responder", "status"], name="ticket_first_responder_status"),
            models.Index(fields=["number"], name="ticket_number"),
            # Search by a caller's number finds their tickets without a scan (tickets/search.py).
            models.Index(fields=["contact_phone"], name="ticket_contact_phone"),
            # Reports read a period of one site's tickets by receipt or by completion
            # (docs/decisions/0004). Both indexes carry every column the period reports count
            # or group by, so that a year of a million tickets is read from the index alone,
            # never row by row from the table (docs/decisions/0006).
            models.Index(fields=["site", "created_at", *RECEIPT_REPORT_COLUMNS, "id"], name="ticket_site_created"),
            models.Index(
                fields=["site", "completed_at", *COMPLETION_REPORT_COLUMNS, "id"], name="ticket_site_completed"
            ),
            # Open and overdue now (dashboards, workload): with these columns the counts read
            # the index alone. Not a partial index: SQLite cannot match a partial index's
            # condition against bound parameters, and Django always binds them.
            models.Index(
                fields=["site", "status", "resolve_due", "assignee", "department", "id"], name="ticket_in_hand"
            ),
            # Ratings of a period (dashboards, satisfaction trend); most tickets are not rated.
            models.Index(
                fields=["site", "rated_at", "rating", "rated_staff", "id"],
                condition=Q(rated_at__isnull=False),
                name="ticket_site_rated",
            ),
            # The ticket list at 1M tickets (docs/decisions/0009): a page is found by walking an
            # index in the list's order (newest first, or by due time), for one site or, for a
            # scope of every site, without the site; the columns the list filters on come after
            # the id, so that the walk, the capped count and the deep pages read the index alone.
            models.Index(fields=["created_at", "id", *LIST_FILTER_COLUMNS], name="ticket_created_list"),
            models.Index(fields=["site", "resolve_due", "id", *LIST_FILTER_COLUMNS], name="ticket_site_due_list"),
            models.Index(fields=["resolve_due", "id", *LIST_FILTER_COLUMNS], name="ticket_due_list"),
            # Filters that the walk would mostly skip: a category, a handler, a status.
            models.Index(fields=["site", "category", "status", "created_at", "id"], name="ticket_site_category"),
            models.Index(
                fields=["assignee", "status", "site", "created_at", "resolve_due", "id"], name="ticket_assignee_list"
            ),
            models.Index(fields=["status", "created_at", "id"], name="ticket_status_created"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def status_color(self) -> str:
        return STATUS_COLORS.get(self.status, "default")

    def is_overdue(self, now: object = None) -> bool:
        now = now or timezone.now()
        if self.resolve_due is None or self.status in DONE_FOR_SLA:
            return False
        return bool(self.resolve_due < now)  # type: ignore[operator]


class TicketClock(models.Model):
    """The warning engine's clock of one ticket: when the SLA sweep must next look at it and
    which of its warnings are done (decision 0016). A row of its own, made with the ticket:
    the sweep moves it on for every ticket it handles, and in the ticket's row, which is in
    two dozen indexes, that was a new entry in each of them every time."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="clock")
    next_check_at = models.DateTimeField(null=True, blank=True)
    sla_done = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            # The SLA sweep reads only tickets with something due; most have nothing.
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="ticket_clock_due"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.next_check_at}"


class HandlerLoad(models.Model):
    """How many tickets a member of staff has in hand (theirs, in a status not yet done for
    the time limits): what the dispatch rule compares to pick the least-loaded handler
    (decision 0017). Kept by the services in the transaction of every change of a ticket's
    handler or status; ``loads_recount`` puts it right from the tickets themselves."""

    staff = models.OneToOneField(Staff, on_delete=models.CASCADE, primary_key=True, related_name="+")
    in_hand = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.in_hand}"


class Complaint(models.Model):
    """What the six steps of a complaint record (seed 002), one row per complaint ticket.

    The ticket carries the status, the deadlines and the customer's confirmation; this row
    carries the judgment, the investigation, the supervisor's instruction (批示), the
    implementation and the summary. Every step also writes a timeline event."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="complaint")

    # 2 判定
    valid = models.BooleanField(_("投诉成立"), null=True)
    judgment = models.TextField(_("判定说明"), blank=True)
    judged_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    judged_at = models.DateTimeField(_("判定时间"), null=True, blank=True)

    # 3 调查
    cause = models.TextField(_("投诉原因"), blank=True)
    responsible_department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responsible_person = models.ForeignKey(
        Staff, verbose_name=_("责任人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    investigated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    investigated_at = models.DateTimeField(_("调查时间"), null=True, blank=True)

    # 4 方案 and 批示
    chosen = models.ForeignKey(
        "ComplaintProposal",
        verbose_name=_("选定方案"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    instruction = models.TextField(_("批示"), blank=True)
    approved_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("批示时间"), null=True, blank=True)
    round = models.PositiveIntegerField(_("方案轮次"), default=0)

    # 5 实施
    implementation = models.TextField(_("实施情况"), blank=True)
    penalty = models.CharField(_("责任处理"), max_length=300, blank=True)
    penalty_amount = models.DecimalField(_("处罚金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True)
    customer_notified_at = models.DateTimeField(_("通知客户时间"), null=True, blank=True)
    notify_method = models.CharField(_("通知方式"), max_length=20, blank=True)
    implemented_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    implemented_at = models.DateTimeField(_("实施完成时间"), null=True, blank=True)
    refusals = models.PositiveIntegerField(_("客户不认可次数"), default=0)

    # 6 总结
    classification = models.ForeignKey(
        Category, verbose_name=_("投诉分类"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    root_cause = models.TextField(_("根本原因"), blank=True)
    improvement = models.TextField(_("改进措施"), blank=True)
    summarized_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    summarized_at = models.DateTimeField(_("总结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投诉处理")
        verbose_name_plural = _("投诉处理")
        constraints = [
            models.CheckConstraint(
                condition=Q(penalty_amount__isnull=True) | Q(penalty_amount__gte=0),
                name="complaint_penalty_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return str(self.ticket_id)


class ComplaintProposal(models.Model):
    """One proposed solution (处理方案). Proposals come in rounds: a supervisor picks one of
    the round and signs it (批示) or sends the round back; a customer who refuses the chosen
    one opens the next round."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("待批示")
        CHOSEN = "chosen", _("已选定")
        NOT_CHOSEN = "not_chosen", _("未选定")
        RETURNED = "returned", _("已退回")
        REFUSED = "refused", _("客户不认可")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="proposals")
    round = models.PositiveIntegerField(_("轮次"))
    text = models.TextField(_("方案内容"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("投诉处理方案")
        verbose_name_plural = _("投诉处理方案")
        ordering = ["round", "id"]

    def __str__(self) -> str:
        return self.text[:30]


class ConfirmLink(models.Model):
    """A one-time link for the customer to confirm a completed ticket and rate the service
    (链接确认). Only the token's SHA-256 is kept; the link itself is shown once to the staff
    member who made it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="confirm_links")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("客户确认链接")
        verbose_name_plural = _("客户确认链接")


class Handover(models.Model):
    """A formal hand-over of first-responder duty (首问责任移交): the first responder stays
    accountable until the receiver acknowledges; a declined hand-over changes nothing."""

    class State(models.TextChoices):
        PENDING = "pending", _("待确认")
        ACCEPTED = "accepted", _("已接收")
        DECLINED = "declined", _("已拒绝")
        WITHDRAWN = "withdrawn", _("已失效")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="handovers")
    from_staff = models.ForeignKey(Staff, verbose_name=_("移交人"), on_delete=models.PROTECT, related_name="+")
    to_staff = models.ForeignKey(
        Staff, verbose_name=_("接收人"), on_delete=models.PROTECT, related_name="handovers_received"
    )
    by = models.ForeignKey(Staff, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("移交原因"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    at = models.DateTimeField(_("移交时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    answer_note = models.CharField(_("确认说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("首问责任移交")
        verbose_name_plural = _("首问责任移交")
        ordering = ["at", "id"]
        constraints = [
            # One open hand-over per ticket at a time.
            models.UniqueConstraint(fields=["ticket"], condition=Q(state="pending"), name="handover_one_pending"),
        ]
        indexes = [models.Index(fields=["to_staff", "state"], name="handover_to_state")]


class WarningCard(models.Model):
    """A warning card (警告卡, seed 000) recorded against the responsible staff member: blue
    when a hand-over got no progress report in time, yellow when a deadline passed, red when
    a ticket is still not done long after its deadline or is marked serious. Issued exactly
    once per ``key``; a manager may revoke one with a reason (kept, not deleted)."""

    class Color(models.TextChoices):
        BLUE = "blue", _("蓝牌")
        YELLOW = "yellow", _("黄牌")
        RED = "red", _("红牌")

    class Rule(models.TextChoices):
        PROGRESS = "progress", _("交办后未及时反馈")
        RESPOND = "respond", _("超过响应时限")
        ARRIVE = "arrive", _("超过到场时限")
        RESOLVE = "resolve", _("超过办结时限")
        LONG_OVERDUE = "long_overdue", _("超时后仍未办结")
        SERIOUS = "serious", _("造成严重后果")
        VISIT = "visit", _("回访超时")

    key = models.CharField(max_length=80, unique=True)
    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, null=True, blank=True, related_name="warning_cards"
    )
    staff = models.ForeignKey(Staff, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="warning_cards")
    color = models.CharField(_("颜色"), max_length=10, choices=Color.choices)
    rule = models.CharField(_("规则"), max_length=20, choices=Rule.choices)
    deadline = models.DateTimeField(_("期限"), null=True, blank=True)
    issued_at = models.DateTimeField(_("发出时间"), default=timezone.now)
    issued_by = models.ForeignKey(
        Staff, verbose_name=_("发出人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("警告卡")
        verbose_name_plural = _("警告卡")
        ordering = ["-issued_at", "-id"]
        indexes = [
            # The card list of a site, newest first; with the columns the reports count and
            # group by, a period's cards are counted from the index alone (decision 0006).
            models.Index(
                fields=["site", "-issued_at", "revoked_at", "color", "rule", "staff", "id"], name="warning_site_issued"
            ),
            models.Index(fields=["staff", "-issued_at"], name="warning_staff_issued"),
        ]

    def __str__(self) -> str:
        return f"{self.get_color_display()} {self.key}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class TicketEvent(models.Model):
    """One entry of a ticket's timeline, written explicitly by the service that acted."""

    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("内部")
        PUBLIC = "public", _("客户可见")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    type = models.CharField(max_length=30)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="ticket_event_ticket_at"),
            models.Index(fields=["type", "at"], name="ticket_event_type_at"),
        ]


class TicketSearch(models.Model):
    """The search document of one ticket (docs/decisions/0005): number, site, names, rooms,
    content and timeline notes as jieba cuts them, space-separated. Written only by
    ``tickets.search``, in the transaction of the change it follows.

    The full-text index over it is the database's own, made by migration 0012: on SQLite the
    FTS5 table ``tickets_ticketsearch_fts`` (external content, rowid = ticket id) kept in
    step by three triggers on this table; on PostgreSQL the generated column
    ``vector tsvector`` with a GIN index. Neither is a Django field. A later migration that
    makes Django rebuild this table on SQLite (any AlterField) drops the triggers with it and
    must create them again (``tests/test_search.py`` checks they are there).
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search_document")
    document = models.TextField()

    class Meta:
        verbose_name = _("工单检索索引")
        verbose_name_plural = _("工单检索索引")


class Assignment(models.Model):
    """A hand-over of a ticket (派单/转派): from whom to whom, by whom, why, when."""

    class Mode(models.TextChoices):
        AUTO = "auto", _("自动派单")
        MANUAL = "manual", _("人工派单")
        TRANSFER = "transfer", _("转派")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    from_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, related_name="+")
    from_assignee = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, related_name="+")
    to_assignee = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("派单记录")
        verbose_name_plural = _("派单记录")
        ordering = ["at", "id"]


def attachment_path(instance: Attachment, filename: str) -> str:
    today = timezone.localdate()
    return f"tickets/{today:%Y/%m}/{instance.ticket_id}-{timezone.now():%H%M%S%f}.{instance.extension}"


class Attachment(models.Model):
    """A photo attached to a ticket at intake or by the technician on completion."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    extension = models.CharField(max_length=10)
    original_name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]
