"""Satisfaction surveys (满意度调查 / 业主意见征询, SPEC §3.5): questionnaire templates with
scored items, distribution batches with one-time customer links, the responses collected on
paper or through the link, and the follow-up ticket of every negative answer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.customers.models import Customer
from kefu.org.models import Department, Site, Staff
from kefu.tickets.models import Ticket

# The satisfaction scale (满意度) every scale item uses: label and score.
SCALE: tuple[tuple[int, str], ...] = ((5, "满意"), (4, "较满意"), (3, "一般"), (2, "较不满意"), (1, "不满意"))
SCALE_LABELS: dict[int, str] = dict(SCALE)


class Questionnaire(models.Model):
    """A questionnaire template (问卷模板): a title, an introduction, items in order, and the
    two settings the figures and follow-ups read. Company-wide; a batch takes it to a site."""

    title = models.CharField(_("问卷标题"), max_length=100)
    intro = models.TextField(_("卷首语"), blank=True)
    # 满意率 counts the scale answers with a score of at least this: 4 = 满意 + 较满意.
    satisfied_min_score = models.PositiveSmallIntegerField(_("计为满意的最低分"), default=4)
    # Every scored answer at or below this opens a follow-up ticket: 2 = 较不满意 and below.
    followup_max_score = models.PositiveSmallIntegerField(_("需跟进的最高分"), default=2)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("问卷模板")
        verbose_name_plural = _("问卷模板")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfied_min_score__gte=1, satisfied_min_score__lte=5), name="questionnaire_satisfied_1_5"
            ),
            models.CheckConstraint(
                condition=Q(followup_max_score__gte=0, followup_max_score__lte=5), name="questionnaire_followup_0_5"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def formula(self) -> str:
        counted = "+".join(label for score, label in SCALE if score >= self.satisfied_min_score)
        return f"满意率 = ({counted}) / 该题有效答卷数"


class Item(models.Model):
    """One question of a questionnaire, in order. Scale and scored single-choice answers
    count into the average weighted score; only scale answers count into 满意率."""

    class Kind(models.TextChoices):
        SCALE = "scale", _("满意度")
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")
        TEXT = "text", _("填空")

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("题号"))
    kind = models.CharField(_("题型"), max_length=10, choices=Kind.choices, default=Kind.SCALE)
    text = models.CharField(_("题目"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    # [{"label": "1年以下", "score": 1}, …] for single and multiple choice; score may be null.
    options = models.JSONField(_("选项"), default=list, blank=True)

    class Meta:
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        ordering = ["questionnaire_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "position"], name="survey_item_position_unique"),
            models.CheckConstraint(condition=Q(weight__gte=1, weight__lte=100), name="survey_item_weight_1_100"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"

    @property
    def choices(self) -> list[tuple[int, str]]:
        """(value, label) as a form posts them: the score for a scale, 1-based numbers else."""
        if self.kind == self.Kind.SCALE:
            return list(SCALE)
        return [(n, str(o.get("label", ""))) for n, o in enumerate(self.options, start=1)]

    @property
    def scored(self) -> bool:
        return self.kind == self.Kind.SCALE or (
            self.kind == self.Kind.SINGLE and any(o.get("score") is not None for o in self.options)
        )


class Batch(models.Model):
    """A distribution batch (发放批次): one questionnaire handed to a set of a site's
    customers for a period; ``handed_out`` (发放数) is the number of invitations."""

    class Target(models.TextChoices):
        BUILDING = "building", _("按楼栋")
        TAG = "tag", _("按客户标签")
        CUSTOMERS = "customers", _("指定客户")

    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT, related_name="batches"
    )
    site = models.ForeignKey(Site, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="survey_batches")
    name = models.CharField(_("批次名称"), max_length=100)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    target = models.CharField(_("发放对象"), max_length=10, choices=Target.choices)
    target_note = models.CharField(_("对象说明"), max_length=300, blank=True)
    handed_out = models.PositiveIntegerField(_("发放数"), default=0)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("发放批次")
        verbose_name_plural = _("发放批次")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["site", "starts_on"], name="survey_batch_site_start")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="survey_batch_period"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """One customer of a batch and their one-time link. The link is looked up by the
    SHA-256 of its token (so the lookup's timing says nothing about the token); the token
    itself is kept so supervisors can copy the link again."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="survey_invitations")
    token = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("链接有效期至"))
    used_at = models.DateTimeField(_("已作答时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调查邀请")
        verbose_name_plural = _("调查邀请")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["batch", "customer"], name="survey_invitation_once")]

    def __str__(self) -> str:
        return f"{self.batch} · {self.customer}"


class Response(models.Model):
    """One filled-in questionnaire (答卷): typed in from paper or sent through the link. The
    one-to-one invitation makes a second response for the same customer impossible."""

    class Channel(models.TextChoices):
        PAPER = "paper", _("纸质录入")
        LINK = "link", _("客户链接")

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="survey_responses")
    channel = models.CharField(_("回收方式"), max_length=10, choices=Channel.choices)
    entered_by = models.ForeignKey(
        Staff, verbose_name=_("录入人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("回收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["batch", "submitted_at"], name="survey_response_batch_time")]

    def __str__(self) -> str:
        return f"{self.batch} · {self.customer}"


class Answer(models.Model):
    """The answer to one item: ``score`` for a scale or a scored option, ``value`` the
    chosen label(s) or the free text; a negative one links its follow-up ticket."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    score = models.PositiveSmallIntegerField(_("得分"), null=True, blank=True)
    choices = models.JSONField(_("所选项"), default=list, blank=True)
    value = models.TextField(_("回答"), blank=True)
    followup_ticket = models.ForeignKey(
        Ticket, verbose_name=_("跟进工单"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("答题")
        verbose_name_plural = _("答题")
        ordering = ["response_id", "item__position"]
        constraints = [models.UniqueConstraint(fields=["response", "item"], name="survey_answer_once")]
        indexes = [models.Index(fields=["item", "score"], name="survey_answer_item_score")]
