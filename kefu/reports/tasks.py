"""Background tasks of reports (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services import monthly_report_build, monthly_reports_for_last_month


@db_task()
def build_monthly_report(pk: int) -> None:
    monthly_report_build(pk)


@db_periodic_task(crontab(day="1", hour="1", minute="0"))
def monthly_reports() -> None:
    """01:00 on the 1st: last month's report for every site."""
    monthly_reports_for_last_month()
