"""Notifications: the in-app message, its outbox of external sends, the channels and who wants what.

``notify`` is used by every app and itself knows only ``org`` and ``core``: a notification
names its subject by a link and a ``ref`` string ("ticket:123"), never by a foreign key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.org.models import Site, Staff

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The events callers raise. A code not listed here still works (it is shown as it is);
# listing it gives it a Chinese name on the preferences page.
EVENTS: dict[str, StrOrPromise] = {
    "complaint.major": _("重大投诉"),
    "sla.prewarn": _("时限预警"),
    "sla.breach": _("已超时"),
    "sla.escalate": _("超时升级"),
    "warning.card": _("警告卡"),
    "handover": _("工单派转"),
    "first_response.stalled": _("首问工单停滞"),
    "first_response.handover": _("首问责任移交"),
    "customer.first_contact": _("客户首次联系超期"),
}


def event_label(code: str) -> str:
    return str(EVENTS.get(code, code))


class Channel(models.TextChoices):
    """The external channels; in-app is not one of them, it is always on."""

    EMAIL = "email", _("邮件")
    WECOM = "wecom", _("企业微信")
    SMS = "sms", _("短信")


class Notification(models.Model):
    """One message to one staff member, shown under the bell. Written in the same
    transaction as the change it tells about, together with its ``Delivery`` rows."""

    recipient = models.ForeignKey(Staff, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.ForeignKey(
        Staff, verbose_name=_("触发人"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.CharField(_("事件"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    ref = models.CharField(_("关联对象"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell's COUNT(*) of unread rows, on every page.
            models.Index(fields=["recipient", "read_at"], name="notify_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def event_label(self) -> str:
        return event_label(self.event)


class ChannelTarget(models.Model):
    """Where WeCom group messages and SMS go: a WeCom group robot's webhook, or the SMS
    gateway, for one site or (site empty) the whole company. Kept in the Django admin."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        SMS_GATEWAY = "sms_gateway", _("短信网关")

    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    site = models.ForeignKey(
        Site,
        verbose_name=_("项目"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("留空表示全公司"),
    )
    url = models.URLField(
        _("地址"),
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("群机器人 Webhook 地址或短信网关地址"),
    )
    token = models.CharField(_("令牌"), max_length=200, blank=True, help_text=_("短信网关的 Bearer 令牌，可留空"))
    events = models.JSONField(_("接收的事件"), default=list, blank=True, help_text=_("事件代码列表，留空表示全部"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("通知通道")
        verbose_name_plural = _("通知通道")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        events = self.events if self.events is not None else []
        if not isinstance(events, list) or not all(isinstance(e, str) and 0 < len(e) <= 40 for e in events):
            raise ValidationError({"events": _('请填写事件代码的列表，例如 ["sla.escalate"]')})
        self.events = events

    def receives(self, event: str) -> bool:
        return not self.events or event in self.events


class Delivery(models.Model):
    """One external send of a notification (an e-mail, a WeCom group message, an SMS): the
    outbox row the worker claims, sends and marks, with retries and a dead end.

    ``next_attempt_at`` is the one due column: the time a pending or failed row may be sent,
    and, while a worker holds it (``sending``), the end of that worker's lease. So "due" is
    always ``status in (pending, failed, sending) and next_attempt_at <= now``, served by
    one partial index, and a row whose worker died mid-send becomes due again by itself.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败待重试")
        DEAD = "dead", _("已放弃")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # E-mail address, webhook URL or phone number.
    target = models.CharField(_("发送目标"), max_length=500)
    channel_target = models.ForeignKey(
        ChannelTarget, verbose_name=_("通知通道"), on_delete=models.SET_NULL, null=True, blank=True
    )
    # Phone numbers a WeCom group message @-mentions (the recipients who want WeCom).
    mentions = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notify_delivery_due_idx",
                condition=Q(status__in=["pending", "failed", "sending"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["sent", "dead"]) | Q(next_attempt_at__isnull=False),
                name="notify_delivery_active_has_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.target}"


class Preference(models.Model):
    """A staff member's choice for one external channel, for every event (``event`` empty)
    or for one event. Without a row: e-mail on when the user has an address, WeCom on, SMS
    off. The in-app notification is always written."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    event = models.CharField(_("事件"), max_length=40, blank=True)
    enabled = models.BooleanField(_("接收"))

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["staff", "channel", "event"], name="notify_preference_unique"),
        ]
