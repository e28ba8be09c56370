"""Index the tickets that were there before the search index (docs/decisions/0005).

Up to AUTO tickets are indexed here, with the historical models and the same ``compose`` /
``segment`` as the live code; a larger database is left to ``kefu reindex`` (batches in
their own transactions, with a progress line) and this migration says so."""

from collections import defaultdict

from django.db import migrations

AUTO = 50_000
BATCH = 2000
SKIPPED = ("dispatch", "escalated", "major", "warning", "warning_revoked")


def _label(building, entrance, room):
    if not building:
        return ""
    return "-".join([building, entrance, room] if entrance else [building, room])


def index_existing(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    TicketSearch = apps.get_model("tickets", "TicketSearch")
    CustomerUnit = apps.get_model("customers", "CustomerUnit")
    db = schema_editor.connection.alias
    total = Ticket.objects.using(db).count()
    if not total:
        return
    if total > AUTO:
        print(f"\n  工单 {total:,} 张：检索索引请在迁移完成后运行 `kefu reindex` 建立。")
        return
    from kefu.tickets.search import compose

    fields = ("id", "number", "site_id", "site__name", "contact_name", "customer_id", "customer__name",
              "unit__building", "unit__entrance", "unit__room", "content", "work_notes")  # fmt: skip
    ids = list(Ticket.objects.using(db).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = list(Ticket.objects.using(db).filter(pk__in=chunk).values_list(*fields))
        notes = defaultdict(list)
        events = (
            TicketEvent.objects.using(db)
            .filter(ticket_id__in=chunk)
            .exclude(note="")
            .exclude(type__in=SKIPPED)
            .order_by("ticket_id", "at", "id")
            .values_list("ticket_id", "note")
        )
        for ticket_id, note in events:
            notes[ticket_id].append(note)
        rooms = defaultdict(list)
        links = (
            CustomerUnit.objects.using(db)
            .filter(customer_id__in={r[5] for r in rows if r[5]})
            .order_by("customer_id", "id")
            .values_list("customer_id", "unit__building", "unit__entrance", "unit__room")
        )
        for customer_id, *unit in links:
            rooms[customer_id].append(_label(*unit))
        TicketSearch.objects.using(db).bulk_create(
            [
                TicketSearch(
                    ticket_id=pk,
                    document=compose(
                        number=number,
                        site_id=site_id,
                        site=site,
                        contact_name=contact,
                        customer=customer or "",
                        rooms=[_label(*unit), *rooms.get(customer_id, [])],
                        content=content,
                        work_notes=work,
                        notes=notes.get(pk, []),
                    ),
                )
                for pk, number, site_id, site, contact, customer_id, customer, *unit, content, work in rows
            ],
            batch_size=500,
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0003_ownership"),
        ("tickets", "0012_ticket_search"),
    ]

    operations = [migrations.RunPython(index_existing, migrations.RunPython.noop)]
