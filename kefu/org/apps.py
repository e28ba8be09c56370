from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = "组织与权限"

    def ready(self) -> None:
        from kefu.core import refdata

        from .models import Department, Site, SiteCalendar, SiteDayOverride

        refdata.watch(Site, Department, SiteCalendar, SiteDayOverride)
