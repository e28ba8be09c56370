from django.apps import AppConfig


class AppraisalConfig(AppConfig):
    name = "kefu.appraisal"
    verbose_name = "绩效考核"
