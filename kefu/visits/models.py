"""Return visits (回访, SPEC §3.4): a task per completed ticket, the attempts to reach the
customer, the script the agent follows, and the rules that govern them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.core.errors import DomainError
from kefu.core.quiet import DEFAULT_QUIET, ContactWindows
from kefu.customers.models import Customer
from kefu.org.models import Site, Staff
from kefu.tickets.models import Ticket


def default_kinds() -> list[str]:
    return ["complaint", "repair"]


def default_member_tags() -> list[str]:
    return ["会员", "VIP"]


class VisitRules(models.Model):
    """How return visits are made, for one site or (site empty) the whole company."""

    site = models.OneToOneField(
        Site, verbose_name=_("项目"), on_delete=models.CASCADE, null=True, blank=True, related_name="visit_rules"
    )
    kinds = models.JSONField(_("需回访的工单类型"), default=default_kinds, blank=True)
    quiet_hours = models.CharField(_("休息时间（不回访）"), max_length=100, default=DEFAULT_QUIET)
    max_attempts = models.PositiveSmallIntegerField(_("最多拨打次数"), default=3)
    retry_minutes = models.PositiveIntegerField(_("未接通后再拨间隔(分钟)"), default=120)
    team = models.ManyToManyField(Staff, verbose_name=_("回访组"), blank=True, related_name="+")
    member_tags = models.JSONField(
        _("会员标签"), default=default_member_tags, blank=True, help_text=_("带这些标签的客户每期须 100% 回访")
    )

    class Meta:
        verbose_name = _("回访规则")
        verbose_name_plural = _("回访规则")
        constraints = [
            models.UniqueConstraint(Coalesce("site", models.Value(0)), name="visit_rules_one_per_site"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1, max_attempts__lte=10), name="visit_rules_attempts"),
            models.CheckConstraint(condition=Q(retry_minutes__gte=120), name="visit_rules_retry_two_hours"),
        ]

    def __str__(self) -> str:
        return str(self.site or _("全公司"))

    def clean(self) -> None:
        try:
            ContactWindows.outside(self.quiet_hours)
        except DomainError as exc:
            raise ValidationError({"quiet_hours": exc.message}) from None


class VisitScript(models.Model):
    """The script (话术) an agent follows on a return visit, with a branch for each answer.
    ``{customer}``, ``{agent}``, ``{date}`` and ``{service}`` are filled in per visit."""

    name = models.CharField(_("名称"), max_length=50)
    kinds = models.JSONField(_("适用工单类型"), default=list, blank=True, help_text=_("为空表示通用"))
    opening = models.TextField(_("开场"))
    question = models.TextField(_("询问"))
    satisfied = models.TextField(_("满意时"))
    ordinary = models.TextField(_("一般时"))
    dissatisfied = models.TextField(_("不满意时"))
    closing_satisfied = models.TextField(_("结束语（满意）"))
    closing_other = models.TextField(_("结束语（一般/不满意）"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("回访话术")
        verbose_name_plural = _("回访话术")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class VisitCampaign(models.Model):
    """A batch of visits drawn from the customer records (定期回访 / 专项回访): members each
    period, everyone after an event, before a holiday …"""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", _("定期回访")
        CAMPAIGN = "campaign", _("专项回访")

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="visit_campaigns")
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.PERIODIC)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    tags = models.JSONField(_("客户标签"), default=list, blank=True)
    building = models.CharField(_("楼栋"), max_length=20, blank=True)
    older_than_days = models.PositiveIntegerField(_("距上次回访超过(天)"), null=True, blank=True)
    script = models.ForeignKey(
        VisitScript, verbose_name=_("话术"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total = models.PositiveIntegerField(_("回访户数"), default=0)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回访计划")
        verbose_name_plural = _("回访计划")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    """One return visit: due within the policy's days of the ticket's completion, made by the
    assignee outside the customer's quiet hours, retried when nobody answers."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待回访")
        APPOINTED = "appointed", _("已预约")
        RETRY = "retry", _("待重拨")
        DONE = "done", _("已回访")
        UNREACHABLE = "unreachable", _("无法联系")
        CANCELLED = "cancelled", _("已取消")

    class Result(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        ORDINARY = "ordinary", pgettext_lazy("visit result", "一般")
        DISSATISFIED = "dissatisfied", _("不满意")

    class Kind(models.TextChoices):
        AFTER_SERVICE = "after_service", _("服务回访")
        PERIODIC = "periodic", _("定期回访")
        CAMPAIGN = "campaign", _("专项回访")

    OPEN = (Status.PENDING, Status.APPOINTED, Status.RETRY)

    kind = models.CharField(_("回访类型"), max_length=20, choices=Kind.choices, default=Kind.AFTER_SERVICE)
    campaign = models.ForeignKey(
        VisitCampaign,
        verbose_name=_("回访计划"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
    )

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="visits")
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, null=True, blank=True, related_name="visits"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    assignee = models.ForeignKey(
        Staff, verbose_name=_("回访人"), on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    due_at = models.DateTimeField(_("回访期限"))
    next_try_at = models.DateTimeField(_("下次拨打"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("已拨打次数"), default=0)
    result = models.CharField(_("回访结果"), max_length=20, choices=Result.choices, blank=True)
    notes = models.TextField(_("回访记录"), blank=True)
    reason = models.CharField(_("不满意原因"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    done_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    followup = models.ForeignKey(
        Ticket, verbose_name=_("后续工单"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    warned_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["due_at", "id"]
        constraints = [
            # One open visit per ticket: a completion that happens twice does not ask twice.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status__in=["pending", "appointed", "retry"]), name="visit_one_open"
            ),
            # A campaign visits each customer once.
            models.UniqueConstraint(
                fields=["campaign", "customer"], condition=Q(campaign__isnull=False), name="visit_once_per_campaign"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="visit_assignee_status_due"),
            models.Index(fields=["site", "status", "due_at"], name="visit_site_status_due"),
            # A period's visits by due time for the reports, counted from the index alone
            # (decision 0006).
            models.Index(
                fields=["site", "due_at", "status", "done_at", "result", "assignee", "id"], name="visit_site_due_report"
            ),
            # The overdue sweep reads only open visits not yet warned.
            models.Index(
                fields=["due_at"],
                condition=Q(warned_at__isnull=True, status__in=["pending", "appointed", "retry"]),
                name="visit_overdue_unwarned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket or self.customer}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class VisitAttempt(models.Model):
    """One call (回访记录表): reached or not, with what was said."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("已接通")
        UNREACHABLE = "unreachable", _("未接通")
        APPOINTMENT = "appointment", _("另约时间")

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="calls")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("回访通话")
        verbose_name_plural = _("回访通话")
        ordering = ["at", "id"]
