"""The customer and unit lookups of intake: a customer read with their units in two queries,
and a unit of theirs taken from memory, the scope rule kept all the same."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import CustomerUnit, Unit
from kefu.customers.queries import customer_with_units, unit_for


def test_customer_is_read_with_their_units_in_linking_order(world):
    later = Unit.objects.create(site=world.site, building="9", entrance="", room="101")
    first = world.zhang.unit_links.get().unit
    CustomerUnit.objects.create(customer=world.zhang, unit=later)
    with CaptureQueriesContext(connection) as ctx:
        customer = customer_with_units(world.agent, world.zhang.pk)
        assert customer == world.zhang
        assert [link.unit for link in customer.unit_links.all()] == [first, later]
        assert customer.unit_links.all()[1].unit.label == "9-101"
    assert len(ctx) == 2


def test_customer_outside_the_scope_or_unknown_is_none(world):
    assert customer_with_units(world.agent, world.stranger.pk) is None
    assert customer_with_units(world.agent, 987654) is None
    assert customer_with_units(world.outsider, world.stranger.pk) == world.stranger


def test_a_unit_of_the_customer_costs_no_query(world):
    customer = customer_with_units(world.agent, world.zhang.pk)
    unit_id = world.zhang.unit_links.get().unit_id
    with CaptureQueriesContext(connection) as ctx:
        unit = unit_for(world.agent, unit_id, customer=customer)
    assert unit is not None and unit.pk == unit_id
    assert len(ctx) == 0


def test_a_unit_not_theirs_is_looked_up_in_the_scope(world):
    customer = customer_with_units(world.agent, world.zhang.pk)
    li_unit = world.li.unit_links.get().unit
    with CaptureQueriesContext(connection) as ctx:
        assert unit_for(world.agent, li_unit.pk, customer=customer) == li_unit
    assert len(ctx) == 1
    # Without links read along, the same lookup; outside the staff member's sites, none.
    assert unit_for(world.agent, li_unit.pk, customer=world.zhang) == li_unit
    assert unit_for(world.agent, li_unit.pk) == li_unit
    assert unit_for(world.agent, world.stranger.unit_links.get().unit_id) is None
    assert unit_for(world.agent, 987654, customer=customer) is None


def test_a_linked_unit_at_a_site_outside_the_scope_is_not_given(world):
    """A link to a unit of another site (an import of old data may hold one) does not open
    that unit to staff who cannot see its site."""
    foreign = world.stranger.unit_links.get().unit
    CustomerUnit.objects.create(customer=world.zhang, unit=foreign)
    customer = customer_with_units(world.agent, world.zhang.pk)
    assert foreign in [link.unit for link in customer.unit_links.all()]
    assert unit_for(world.agent, foreign.pk, customer=customer) is None
    assert unit_for(world.director, foreign.pk, customer=customer) == foreign
