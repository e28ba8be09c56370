"""``display`` gives what ``get_FOO_display()`` gives, in the language of the moment."""

import pytest
from django.utils import translation

from kefu.core.choices import display
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Assignment, Ticket, TicketEvent


@pytest.mark.parametrize("language", ["zh-hans", "en", "zh-hans"])
@pytest.mark.parametrize(
    ("model", "name"),
    [
        (Ticket, "status"),
        (Ticket, "kind"),
        (Ticket, "channel"),
        (Ticket, "urgency"),
        (Assignment, "mode"),
        (TicketEvent, "visibility"),
    ],
)
def test_every_choice_and_an_unknown_value_read_as_django_reads_them(model, name, language):
    field = model._meta.get_field(name)
    values = [value for value, _label in field.flatchoices] + ["no-such-value", ""]
    with translation.override(language):
        for value in values:
            row = model(**{name: value})
            assert display(row, name) == getattr(row, f"get_{name}_display")()


def test_the_label_follows_the_language_of_each_call():
    ticket = Ticket(status=Status.CLOSED)
    with translation.override("zh-hans"):
        chinese = display(ticket, "status")
    with translation.override("en"):
        english = display(ticket, "status")
    with translation.override("zh-hans"):
        again = display(ticket, "status")
    assert chinese == again == "已关闭"
    assert english != chinese and english.isascii()
