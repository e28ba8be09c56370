from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """A named sequence, advanced by one atomic UPSERT (see ``core.numbering``).

    Ticket numbers come from here rather than from ``MAX(number)+1``, which would hand the
    same number to two concurrent intakes.
    """

    key = models.CharField(max_length=120, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "计数器"
        verbose_name_plural = "计数器"

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class HolidaySchedule(models.Model):
    """A year's official holiday schedule (放假安排) as an administrator entered or imported it.

    The text is the source (one line per day or range, see ``core.calendar.parse_schedule``);
    it overrides the holiday library for its year, and is how years past the library's range
    get their holidays and make-up working days (调休).
    """

    year = models.PositiveIntegerField(_("年份"), unique=True)
    text = models.TextField(_("放假安排"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("年度放假安排")
        verbose_name_plural = _("年度放假安排")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)
