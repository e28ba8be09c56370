"""The monthly report (客服月报): figures kept as they were when generated, and the
manager's written summary."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.org.models import Site, Staff


class MonthlyReport(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("生成中")
        READY = "ready", _("已生成")
        FAILED = "failed", _("生成失败")

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="monthly_reports")
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    figures = models.JSONField(_("数据"), default=dict, blank=True)
    summary = models.TextField(_("工作小结"), blank=True)
    # Who last rewrote the summary, and when; never set while it is still the drafted one.
    summary_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    summary_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("客服月报")
        verbose_name_plural = _("客服月报")
        ordering = ["-month", "site_id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "month"], name="monthly_report_one_per_site_month"),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.month:%Y-%m}"
