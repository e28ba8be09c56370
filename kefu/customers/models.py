from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.org.models import Site, Staff


class Unit(models.Model):
    """A room (房屋) of a site: building–entrance–room, written 1-2-301."""

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="units")
    building = models.CharField(_("楼栋"), max_length=20)
    entrance = models.CharField(_("单元"), max_length=20, blank=True)
    room = models.CharField(_("房号"), max_length=20)
    area = models.DecimalField(_("建筑面积"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["site_id", "building", "entrance", "room"]
        constraints = [
            models.UniqueConstraint(fields=["site", "building", "entrance", "room"], name="unit_unique_per_site"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        parts = [self.building, self.entrance, self.room] if self.entrance else [self.building, self.room]
        return "-".join(parts)

    @property
    def long_label(self) -> str:
        entrance = f"{self.entrance}单元" if self.entrance else ""
        return f"{self.building}栋{entrance}{self.room}室"


class Tag(models.Model):
    """A customer tag (标签) such as VIP, 会员 or 大客户."""

    name = models.CharField(_("标签"), max_length=20, unique=True)
    color = models.CharField(_("颜色"), max_length=10, default="primary")

    class Meta:
        verbose_name = _("客户标签")
        verbose_name_plural = _("客户标签")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A customer record (客户档案): a person or a company of one site."""

    class Kind(models.TextChoices):
        PERSON = "person", _("个人")
        COMPANY = "company", _("单位")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("未知")
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    class Source(models.TextChoices):
        DELIVERY = "delivery", _("交房入住")
        PHONE = "phone", _("来电")
        VISIT = "visit", _("来访")
        IMPORT = "import", _("导入")
        SALES = "sales", _("销售转入")
        OTHER = "other", _("其他")

    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="customers")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("姓名/单位名称"), max_length=100)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, blank=True, default="")
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.OTHER)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="customers")
    note = models.TextField(_("备注"), blank=True)
    visit_hours = models.CharField(
        _("方便联系时间"),
        max_length=60,
        blank=True,
        help_text=_("如 19:00-20:30；回访只在这些时间进行，不填则避开休息时间"),
    )
    is_active = models.BooleanField(_("有效"), default=True)
    # 客户归属: the agent who looks after this customer; a new one must make first contact
    # within 7 days (seed 001).
    owner = models.ForeignKey(
        Staff,
        verbose_name=_("客户专员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    owner_since = models.DateTimeField(_("分配时间"), null=True, blank=True)
    first_contact_due = models.DateTimeField(_("首次联系期限"), null=True, blank=True)
    first_contacted_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    first_contact_warned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["site", "name"], name="customer_site_name"),
            models.Index(fields=["owner", "is_active"], name="customer_owner_active"),
            # The first-contact sweep reads only customers still waiting for their first call.
            models.Index(
                fields=["first_contact_due"],
                condition=Q(first_contacted_at__isnull=True, first_contact_warned_at__isnull=True),
                name="customer_first_contact_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_phone(self) -> str:
        phones = list(self.phones.all())
        primary = next((p for p in phones if p.is_primary), phones[0] if phones else None)
        return primary.number if primary else ""


class CustomerPhone(models.Model):
    """One of a customer's phone numbers; ``last4`` is indexed for 尾号 search."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("电话"), max_length=30)
    last4 = models.CharField(max_length=4, db_index=True)
    label = models.CharField(_("说明"), max_length=20, blank=True)
    is_primary = models.BooleanField(_("主号码"), default=False)

    class Meta:
        verbose_name = _("客户电话")
        verbose_name_plural = _("客户电话")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["number"], name="customer_phone_number")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class CustomerUnit(models.Model):
    """A customer's relation to a unit: owner, tenant or family member."""

    class Relation(models.TextChoices):
        OWNER = "owner", _("业主")
        TENANT = "tenant", _("租户")
        FAMILY = "family", _("家属")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="customer_links")
    relation = models.CharField(_("关系"), max_length=10, choices=Relation.choices, default=Relation.OWNER)

    class Meta:
        verbose_name = _("客户房屋")
        verbose_name_plural = _("客户房屋")
        constraints = [
            models.UniqueConstraint(fields=["customer", "unit"], name="customer_unit_unique"),
        ]


class CustomerEvent(models.Model):
    """The change history of a customer record: who changed what, when."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    type = models.CharField(max_length=30)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("客户变更记录")
        verbose_name_plural = _("客户变更记录")
        ordering = ["-at", "-id"]
