"""Tickets in hand per handler (decision 0017): the table, filled from the tickets."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count

# The statuses in hand when this migration was written (``lifecycle.IN_HAND``).
IN_HAND = ("new", "received", "dispatched", "accepted", "in_progress", "investigating", "proposing",
           "awaiting_approval", "implementing", "suspended")


def count(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    HandlerLoad = apps.get_model("tickets", "HandlerLoad")
    counted = (
        Ticket.objects.filter(status__in=IN_HAND, assignee__isnull=False)
        .order_by()
        .values_list("assignee_id")
        .annotate(n=Count("*"))
    )
    HandlerLoad.objects.bulk_create([HandlerLoad(staff_id=staff, in_hand=n) for staff, n in counted])


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0002_sitecalendar_sitedayoverride'),
        ('tickets', '0017_ticket_clock'),
    ]

    operations = [
        migrations.CreateModel(
            name='HandlerLoad',
            fields=[
                ('staff', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='org.staff')),
                ('in_hand', models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(count, migrations.RunPython.noop),
    ]
