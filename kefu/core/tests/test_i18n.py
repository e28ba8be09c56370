"""The UI is Simplified Chinese by default and English on request (Accept-Language, the
language cookie or the switch in the top bar); the English catalog is complete and compiled."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from kefu.core.errors import ValidationFailed
from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets import services
from kefu.tickets.lifecycle import ACTIONS, Status

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    # LocaleMiddleware activates a request's language for the thread and nothing resets it:
    # an English request would leave the next test of this worker in English.
    yield
    translation.deactivate()


def _po_entries() -> dict[tuple[str, str], str]:
    """(msgctxt, msgid) → msgstr of the .po, parsed just enough for this test."""
    entries: dict[tuple[str, str], str] = {}
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        parts: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith(("msgctxt ", "msgid ", "msgstr ")):
                key, _, line = line.partition(" ")
                parts[key] = ""
            if key and line.startswith('"'):
                parts[key] += ast.literal_eval(line)
        if parts.get("msgid"):
            entries[(parts.get("msgctxt", ""), parts["msgid"])] = parts.get("msgstr", "")
    return entries


def test_every_msgid_is_translated_and_compiled():
    entries = _po_entries()
    assert len(entries) > 300
    assert [msgid for msgid, msgstr in entries.items() if not msgstr.strip()] == []
    with MO.open("rb") as f:
        catalog = gettext.GNUTranslations(f)

    def compiled(context: str, msgid: str) -> str:
        return catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)

    stale = [msgid for (context, msgid), msgstr in entries.items() if compiled(context, msgid) != msgstr]
    assert stale == [], "django.mo is out of date: run msgfmt -o django.mo django.po"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default_and_english_on_request(client):
    body = client.get(reverse("login")).content.decode()
    assert "客服中心管理系统" in body and "Sign in" not in body
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in" in body and "Customer Service Centre" in body and "客服中心管理系统" not in body


@pytest.fixture
def agent(db):
    site = make_site()
    staff = make_staff(Role.AGENT, sites=[site])
    make_ticket(site, staff)
    return staff


def test_ticket_list_headers_follow_the_language(client, agent):
    client.force_login(agent.user)
    body = client.get("/tickets/").content.decode()
    assert "<th>工单号</th>" in body and "<th>受理时间</th>" in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get("/tickets/").content.decode()
    assert "<th>Ticket no.</th>" in body and "<th>Taken at</th>" in body and "<th>工单号</th>" not in body
    assert 'lang="en"' in body


def test_language_switch_posts_to_set_language(client, agent):
    client.force_login(agent.user)
    body = client.get("/tickets/").content.decode()
    assert f'action="{reverse("set_language")}"' in body and 'name="language"' in body
    response = client.post(reverse("set_language"), {"language": "en", "next": "/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert "Ticket list" in client.get("/tickets/").content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/tickets/"})
    assert "工单列表" in client.get("/tickets/").content.decode()


def test_labels_and_service_messages_translate():
    assert str(Status.DISPATCHED.label) == "已派单"
    with translation.override("en"):
        assert str(Status.DISPATCHED.label) == "Dispatched"
        assert str(ACTIONS["dispatch"].label) == "Dispatch"
        assert ValidationFailed(services.CONFLICT_MESSAGE).message.startswith("Operation failed")
    assert ValidationFailed(services.CONFLICT_MESSAGE).message.startswith("操作失败")


def test_service_error_comes_out_in_english(agent):
    site = agent.sites.get()
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        services.ticket_create(actor=agent, site=site, kind="repair", channel="phone", content="")
    assert "Content is required" in exc.value.fields["content"]
