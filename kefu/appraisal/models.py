"""Staff appraisal (绩效考核, SPEC §3.10): a scheme per role (KPI weights and points), appraisal
periods, each person's computed figures and score, and the rewards and penalties ledger."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.org.models import Role, Site, Staff
from kefu.tickets.models import WarningCard

# KPI code → default weight. Every KPI is a 0–100 score; cards and praise are points added or
# taken off the total (see ``scoring``).
DEFAULT_WEIGHTS: dict[str, dict[str, int]] = {
    Role.AGENT: {"handled": 20, "on_time": 25, "satisfaction": 25, "visits_on_time": 15, "first_contact": 15},
    Role.FRONTDESK: {"handled": 30, "on_time": 20, "satisfaction": 30, "first_contact": 20},
    Role.TECHNICIAN: {"handled": 35, "on_time": 35, "satisfaction": 30},
    Role.DEPT_STAFF: {"handled": 35, "on_time": 35, "satisfaction": 30},
    Role.SUPERVISOR: {"on_time": 30, "satisfaction": 30, "visits_on_time": 20, "first_contact": 20},
    Role.MANAGER: {"on_time": 35, "satisfaction": 40, "visits_on_time": 25},
    Role.DIRECTOR: {"on_time": 35, "satisfaction": 40, "visits_on_time": 25},
}


def default_card_points() -> dict[str, int]:
    return {WarningCard.Color.BLUE: 1, WarningCard.Color.YELLOW: 3, WarningCard.Color.RED: 10}


class Scheme(models.Model):
    """考核方案 of one role: how much each KPI weighs, what a full month of handled tickets is,
    how the score sheets count, and the points of cards and praise."""

    role = models.CharField(_("岗位"), max_length=20, choices=Role.choices, unique=True)
    weights = models.JSONField(_("指标权重"), default=dict, blank=True)
    handled_target = models.PositiveIntegerField(_("办结量满分标准(张/月)"), default=60)
    sheet_share = models.PositiveSmallIntegerField(_("评分表占比(%)"), default=30)
    card_points = models.JSONField(_("警告卡扣分"), default=default_card_points, blank=True)
    praise_points = models.PositiveSmallIntegerField(_("表扬加分"), default=2)
    updated_by = models.ForeignKey(
        Staff, verbose_name=_("修改人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        constraints = [
            models.CheckConstraint(condition=Q(sheet_share__lte=100), name="scheme_sheet_share_percent"),
            models.CheckConstraint(condition=Q(handled_target__gte=1), name="scheme_handled_target_positive"),
        ]

    def __str__(self) -> str:
        return str(self.get_role_display())


class Period(models.Model):
    """考核期: a month, a quarter or a year, for the staff of some sites."""

    class Status(models.TextChoices):
        OPEN = "open", _("考核中")
        CLOSED = "closed", _("已结束")

    name = models.CharField(_("名称"), max_length=50)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    sites = models.ManyToManyField(Site, verbose_name=_("项目"), related_name="+")
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("考核期")
        verbose_name_plural = _("考核期")
        ordering = ["-start", "-id"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_end_after_start")]

    def __str__(self) -> str:
        return self.name


class Appraisal(models.Model):
    """One person in one period: the KPI figures, the scores and the rank."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="appraisals")
    staff = models.ForeignKey(Staff, verbose_name=_("员工"), on_delete=models.PROTECT, related_name="appraisals")
    role = models.CharField(_("岗位"), max_length=20, choices=Role.choices)
    kpis = models.JSONField(_("指标"), default=dict, blank=True)
    kpi_score = models.DecimalField(_("指标得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    sheet_score = models.DecimalField(_("评分表得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    adjustments = models.DecimalField(_("奖惩加减分"), max_digits=7, decimal_places=2, default=0)
    total = models.DecimalField(_("综合得分"), max_digits=7, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    signed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signed_at = models.DateTimeField(_("签核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["rank", "id"]
        constraints = [models.UniqueConstraint(fields=["period", "staff"], name="appraisal_once_per_period")]

    def __str__(self) -> str:
        return f"{self.period} · {self.staff}"


class RewardPenalty(models.Model):
    """奖惩台账: points (and money) given or taken, by hand or from a warning card."""

    class Kind(models.TextChoices):
        REWARD = "reward", _("奖励")
        PENALTY = "penalty", _("处罚")

    staff = models.ForeignKey(Staff, verbose_name=_("员工"), on_delete=models.PROTECT, related_name="rewards")
    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    amount = models.DecimalField(_("金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("事由"), max_length=300)
    card = models.OneToOneField(
        WarningCard, verbose_name=_("警告卡"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("奖惩记录")
        verbose_name_plural = _("奖惩台账")
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="reward_points_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="reward_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_kind_display()} {self.points}"


class SheetTemplate(models.Model):
    """评分表: sections of items, each scored from 0 to its maximum by a superior."""

    name = models.CharField(_("名称"), max_length=100)
    role = models.CharField(_("适用岗位"), max_length=20, choices=Role.choices, blank=True, help_text=_("为空表示通用"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评分表模板")
        verbose_name_plural = _("评分表模板")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class SheetItem(models.Model):
    template = models.ForeignKey(SheetTemplate, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(_("类别"), max_length=50)
    text = models.CharField(_("评分项"), max_length=200)
    max_score = models.PositiveSmallIntegerField(_("满分"), default=5)
    position = models.PositiveSmallIntegerField(_("序号"))

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="sheet_item_position_unique"),
            models.CheckConstraint(condition=Q(max_score__gte=1, max_score__lte=100), name="sheet_item_max_1_100"),
        ]

    def __str__(self) -> str:
        return self.text


class Sheet(models.Model):
    """One scorer's filled sheet for one person's appraisal."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="sheets")
    template = models.ForeignKey(SheetTemplate, on_delete=models.PROTECT, related_name="+")
    scorer = models.ForeignKey(Staff, verbose_name=_("评分人"), on_delete=models.PROTECT, related_name="+")
    scores = models.JSONField(_("各项得分"), default=dict)
    points = models.PositiveIntegerField(_("得分"))
    max_points = models.PositiveIntegerField(_("满分"))
    score = models.DecimalField(_("百分制得分"), max_digits=6, decimal_places=2)
    submitted_at = models.DateTimeField(_("评分时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评分表")
        verbose_name_plural = _("评分表")
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "template", "scorer"], name="sheet_once_per_scorer"),
        ]
