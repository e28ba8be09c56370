from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kefu.reports"
    verbose_name = "统计报表"
