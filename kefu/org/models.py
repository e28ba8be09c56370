from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DIRECTOR = "director", _("客服总监")
    MANAGER = "manager", _("客服经理")
    SUPERVISOR = "supervisor", _("客服主管")
    AGENT = "agent", _("客服专员")
    FRONTDESK = "frontdesk", _("前台")
    TECHNICIAN = "technician", _("维修工")
    DEPT_STAFF = "dept_staff", _("部门人员")
    ADMIN = "admin", _("系统管理员")


class Site(models.Model):
    """A project / estate / branch (项目): the boundary of data. Every record belongs to one."""

    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("住宅小区")
        OFFICE = "office", _("写字楼")
        COMMERCIAL = "commercial", _("商业")
        AFTERSALES = "aftersales", _("售后服务中心")

    name = models.CharField(_("项目名称"), max_length=100, unique=True)
    code = models.CharField(_("项目编码"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.RESIDENTIAL)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("服务电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department (部门) that receives dispatched work; company-wide, typed."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("客服")
        ENGINEERING = "engineering", _("工程")
        SECURITY = "security", _("秩序维护")
        ENVIRONMENT = "environment", _("环境")
        FINANCE = "finance", _("财务")
        SALES = "sales", _("销售")
        OTHER = "other", _("其他")

    name = models.CharField(_("部门名称"), max_length=50, unique=True)
    kind = models.CharField(_("部门类型"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """A skill (技能) such as 水电 or 电梯; categories may require one for dispatch."""

    name = models.CharField(_("技能"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A staff member (员工): the login account plus role, department, sites and superior."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("姓名"), max_length=30)
    employee_no = models.CharField(_("工号"), max_length=20, unique=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    role = models.CharField(_("岗位"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    sites = models.ManyToManyField(Site, verbose_name=_("负责项目"), related_name="staff", blank=True)
    superior = models.ForeignKey(
        "self", verbose_name=_("上级"), on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    skills = models.ManyToManyField(Skill, verbose_name=_("技能"), blank=True, related_name="staff")
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for integrations. Only its SHA-256 is stored."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")


class SiteCalendar(models.Model):
    """A site's working hours (工作时段), e.g. "08:30-12:00, 13:30-17:30"; Saturday and Sunday
    hours apply when such a day is a working day (调休) or the site works weekends."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="calendar")
    hours = models.CharField(_("工作时段"), max_length=100, default="08:30-12:00, 13:30-17:30")
    saturday_hours = models.CharField(_("周六工作时段"), max_length=100, blank=True)
    sunday_hours = models.CharField(_("周日工作时段"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("项目工作时间")
        verbose_name_plural = _("项目工作时间")

    def __str__(self) -> str:
        return f"{self.site}: {self.hours}"


class SiteDayOverride(models.Model):
    """A site's own exception to the calendar: a day off or an extra working day."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="day_overrides")
    day = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("上班"), default=False)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("项目日历例外")
        verbose_name_plural = _("项目日历例外")
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="site_day_override_unique")]

    def __str__(self) -> str:
        return f"{self.site} {self.day}"
