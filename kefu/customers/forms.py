"""The customer create/edit form: request data ⇄ ``CustomerData``, and the values to re-render.

The rules live in ``services.clean_customer_data``; this module only reads the page's fields
(three phone inputs, three unit rows, comma-separated tags) and keeps what the user typed so
that a refused save shows their input again next to the Chinese messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.http import QueryDict

from .models import Customer, CustomerUnit
from .services import CustomerData, UnitLink

PHONE_INPUTS = 3
UNIT_ROWS = 3
# A record made elsewhere (API, import) may hold more than the blank inputs offer; the form then
# shows them all and must post them all back, or saving would drop them unseen.
MAX_POSTED = 10

_TAG_SPLIT = re.compile(r"[,，、;；]+")


@dataclass
class UnitRow:
    building: str = ""
    entrance: str = ""
    room: str = ""
    relation: str = CustomerUnit.Relation.OWNER

    @property
    def is_blank(self) -> bool:
        return not (self.building or self.entrance or self.room)


@dataclass
class CustomerForm:
    """What the form shows: field values, errors by field name, and a form-wide message."""

    name: str = ""
    kind: str = Customer.Kind.PERSON
    gender: str = ""
    contact_person: str = ""
    email: str = ""
    source: str = Customer.Source.OTHER
    note: str = ""
    visit_hours: str = ""
    tags: str = ""
    site: str = ""
    version: str = ""
    phones: list[str] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""
    conflict: bool = False

    # Choices for the selects, so the template needs no model access.
    kind_choices = Customer.Kind.choices
    gender_choices = Customer.Gender.choices
    source_choices = Customer.Source.choices
    relation_choices = CustomerUnit.Relation.choices

    def __post_init__(self) -> None:
        self.phones = (list(self.phones) + [""] * PHONE_INPUTS)[: max(PHONE_INPUTS, len(self.phones))]
        self.units = (list(self.units) + [UnitRow() for _ in range(UNIT_ROWS)])[: max(UNIT_ROWS, len(self.units))]

    @classmethod
    def from_post(cls, post: QueryDict) -> CustomerForm:
        def text(name: str) -> str:
            return (post.get(name) or "").strip()

        rows = zip(
            post.getlist("building"),
            post.getlist("entrance"),
            post.getlist("room"),
            post.getlist("relation"),
            strict=False,
        )
        return cls(
            name=text("name"),
            kind=text("kind") or Customer.Kind.PERSON,
            gender=text("gender"),
            contact_person=text("contact_person"),
            email=text("email"),
            source=text("source") or Customer.Source.OTHER,
            note=text("note"),
            visit_hours=text("visit_hours"),
            tags=text("tags"),
            site=text("site"),
            version=text("version"),
            phones=[p.strip() for p in post.getlist("phones")][:MAX_POSTED],
            units=[UnitRow(b.strip(), e.strip(), r.strip(), rel) for b, e, r, rel in rows][:MAX_POSTED],
        )

    @classmethod
    def from_customer(cls, customer: Customer) -> CustomerForm:
        return cls(
            name=customer.name,
            kind=customer.kind,
            gender=customer.gender,
            contact_person=customer.contact_person,
            email=customer.email,
            source=customer.source,
            note=customer.note,
            visit_hours=customer.visit_hours,
            tags="，".join(t.name for t in customer.tags.all()),
            site=str(customer.site_id),
            version=str(customer.version),
            phones=[p.number for p in customer.phones.all()],
            units=[
                UnitRow(link.unit.building, link.unit.entrance, link.unit.room, link.relation)
                for link in customer.unit_links.select_related("unit").order_by("id")
            ],
        )

    def to_data(self) -> CustomerData:
        return CustomerData(
            name=self.name,
            kind=self.kind,
            phones=[p for p in self.phones if p],
            units=[UnitLink(u.building, u.entrance, u.room, u.relation) for u in self.units if not u.is_blank],
            tags=split_tags(self.tags),
            gender=self.gender,
            contact_person=self.contact_person,
            email=self.email,
            source=self.source,
            note=self.note,
            visit_hours=self.visit_hours,
        )

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def split_tags(text: str) -> list[str]:
    """``VIP，会员、大客户`` → three tags; Chinese and ASCII separators alike."""
    seen: list[str] = []
    for part in _TAG_SPLIT.split(text or ""):
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return seen
