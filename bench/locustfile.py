"""The agents of the mixed load (``bench/load.py`` runs this with locust; see its docstring).

Each simulated agent logs in through the login page and then works as an agent of a service
centre does, one action every 1–5 s: the home page and the ticket list most, then ticket
details, a filtered or sorted list, a search, the customer lookup of the intake page, a new
ticket through the intake form, a note on an open ticket, the global search, the warning
list. What each agent may see (its site's tickets, customers, categories, words to search)
comes from the plan ``bench/load.py`` writes (``KEFU_LOAD_PLAN``): this file runs under
gevent and imports nothing of Django.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = {}
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_users = itertools.count()


@events.init.add_listener
def _load_plan(environment: Any, **_: Any) -> None:
    with open(os.environ["KEFU_LOAD_PLAN"], encoding="utf-8") as source:
        PLAN.update(json.load(source))


class Agent(HttpUser):
    wait_time = between(1, 5)

    def on_start(self) -> None:
        agents = PLAN["agents"]
        self.me = agents[next(_users) % len(agents)]
        self.rng = random.Random(self.me["username"])
        page = self.client.get("/login/", name="login page")
        token = _CSRF.search(page.text)
        with self.client.post(
            "/login/",
            data={
                "username": self.me["username"],
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "next": "/",
            },
            headers={"Referer": f"{self.host}/login/"},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login of {self.me['username']} answered {answer.status_code}")

    # --- helpers -------------------------------------------------------------------------

    def _csrf(self) -> dict[str, str]:
        token = self.client.cookies.get("csrftoken", "")
        return {"X-CSRFToken": token, "Referer": f"{self.host}/"}

    def _get(self, path: str, name: str, **params: Any) -> None:
        with self.client.get(path, params=params or None, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")

    # --- what an agent does --------------------------------------------------------------

    @task(4)
    def home(self) -> None:
        self._get("/", "home")

    @task(4)
    def ticket_list(self) -> None:
        self._get("/tickets/", "ticket list")

    @task(5)
    def ticket_detail(self) -> None:
        self._get(f"/tickets/{self.rng.choice(self.me['tickets'])}/", "ticket detail")

    @task(3)
    def ticket_list_filtered(self) -> None:
        params = self.rng.choice(PLAN["list_filters"])
        self._get("/tickets/", "ticket list, filtered", **params)

    @task(1)
    def ticket_list_deep(self) -> None:
        self._get("/tickets/", "ticket list, page 2-40", page=self.rng.randint(2, 40))

    @task(2)
    def ticket_search(self) -> None:
        self._get("/tickets/", "ticket list, search", q=self.rng.choice(PLAN["words"]))

    @task(1)
    def global_search(self) -> None:
        customer = self.rng.choice(self.me["customers"])
        query = self.rng.choice([customer["phone"], customer["name"], customer["room"], self.rng.choice(PLAN["words"])])
        self._get("/search/", "global search", q=query)

    @task(2)
    def intake_lookup(self) -> None:
        customer = self.rng.choice(self.me["customers"])
        self._get("/tickets/intake/lookup/", "intake: customer lookup", q=customer["phone"])

    @task(1)
    def intake(self) -> None:
        customer = self.rng.choice(self.me["customers"])
        kind, category = self.rng.choice(self.me["categories"])
        data = {
            "site": self.me["site"],
            "kind": kind,
            "channel": "phone",
            "urgency": "low",
            "category": category,
            "customer": customer["id"],
            "unit": customer["unit"] or "",
            "contact_name": customer["name"],
            "contact_phone": customer["phone"],
            "content": self.rng.choice(PLAN["contents"]),
            "auto_dispatch": "on",
            "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
        }
        with self.client.post(
            "/tickets/intake/",
            data=data,
            headers=self._csrf(),
            allow_redirects=False,
            name="intake",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"intake answered {answer.status_code}")

    @task(1)
    def note(self) -> None:
        pk = self.rng.choice(self.me["open_tickets"])
        data = {"text": self.rng.choice(PLAN["notes"]), "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}
        with self.client.post(
            f"/tickets/{pk}/note/",
            data=data,
            headers=self._csrf(),
            allow_redirects=False,
            name="note",
            catch_response=True,
        ) as answer:
            if answer.status_code >= 400:
                answer.failure(f"note answered {answer.status_code}")

    @task(1)
    def warnings(self) -> None:
        self._get("/tickets/warnings/", "warning list")
