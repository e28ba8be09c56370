from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = "工单"

    def ready(self) -> None:
        # A customer's name and rooms are in their tickets' search documents; the customers
        # app tells us of changes through its hook list.
        from kefu.core import refdata
        from kefu.customers.hooks import AFTER_CUSTOMER_UPDATE

        from .models import Category, SlaPolicy, WarningRules
        from .search import on_customer_update

        refdata.watch(Category, SlaPolicy, WarningRules)

        if on_customer_update not in AFTER_CUSTOMER_UPDATE:
            AFTER_CUSTOMER_UPDATE.append(on_customer_update)
