"""Every search document starts with the word of its site (``kefusite12``, decision 0009):
added here to the documents already written, in one UPDATE, so that no document lacks it
(a search limited to some sites asks for one of their words, and a document without its
word would not be found). The full-text index follows: FTS5 through its triggers, the
tsvector column as it is generated. About 4 minutes for a million documents on SQLite."""

from django.db import migrations

PREFIX = "kefusite"


def add_site_words(apps, schema_editor):
    # Only the documents that have none yet: a document written by 0013 or the live code
    # already starts with it.
    schema_editor.execute(
        "UPDATE tickets_ticketsearch SET document = %s || (SELECT site_id FROM tickets_ticket "
        "WHERE tickets_ticket.id = tickets_ticketsearch.ticket_id) || "
        "CASE WHEN document = '' THEN '' ELSE ' ' || document END "
        "WHERE document NOT LIKE %s",
        [PREFIX, PREFIX + "%"],
    )


def remove_site_words(apps, schema_editor):
    position = "instr(document, ' ')" if schema_editor.connection.vendor == "sqlite" else "strpos(document, ' ')"
    schema_editor.execute(
        f"UPDATE tickets_ticketsearch SET document = CASE WHEN {position} > 0 "
        f"THEN substr(document, {position} + 1) ELSE '' END WHERE document LIKE %s",
        [PREFIX + "%"],
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0014_list_indexes"),
    ]

    operations = [migrations.RunPython(add_site_words, remove_site_words)]
