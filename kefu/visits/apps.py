from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "kefu.visits"
    verbose_name = "回访"

    def ready(self) -> None:
        # A completed ticket gets its return visit through the tickets app's hook list.
        from kefu.tickets.hooks import AFTER_TRANSITION

        from .services import on_ticket_transition

        if on_ticket_transition not in AFTER_TRANSITION:
            AFTER_TRANSITION.append(on_ticket_transition)
