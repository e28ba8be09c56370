from django.db import models


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
