"""The warning engine's clock moves out of the ticket's row into ``TicketClock`` (decision
0016): the table, each ticket's values copied into it, then the columns dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0016_list_filter_urgency'),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketClock',
            fields=[
                ('ticket', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='clock', serialize=False, to='tickets.ticket')),
                ('next_check_at', models.DateTimeField(blank=True, null=True)),
                ('sla_done', models.JSONField(blank=True, default=list)),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO tickets_ticketclock (ticket_id, next_check_at, sla_done) "
            "SELECT id, next_check_at, sla_done FROM tickets_ticket",
            reverse_sql=(
                "UPDATE tickets_ticket SET "
                "next_check_at = (SELECT c.next_check_at FROM tickets_ticketclock c WHERE c.ticket_id = tickets_ticket.id), "
                "sla_done = COALESCE((SELECT c.sla_done FROM tickets_ticketclock c WHERE c.ticket_id = tickets_ticket.id), "
                "sla_done)"
            ),
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_next_check_due',
        ),
        migrations.RemoveField(
            model_name='ticket',
            name='next_check_at',
        ),
        migrations.RemoveField(
            model_name='ticket',
            name='sla_done',
        ),
        migrations.AddIndex(
            model_name='ticketclock',
            index=models.Index(condition=models.Q(('next_check_at__isnull', False)), fields=['next_check_at'], name='ticket_clock_due'),
        ),
    ]
