from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        from . import refdata
        from .models import HolidaySchedule

        # The holiday schedules are in every site's business calendar.
        refdata.watch(HolidaySchedule)
