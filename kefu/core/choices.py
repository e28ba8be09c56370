"""The label of a field's choice, as ``get_FOO_display()`` gives it, for less.

Django's ``get_FOO_display()`` builds a hashable copy of the field's whole choice list on
every call, and the lazy labels of that list are translated while it does: a ticket's status
translates all twenty of its labels to show one. API answers show four such labels a ticket,
fifty tickets a page. Here the labels of each field are looked up once per process (the lazy
labels themselves, so the language is still the request's) and only the one shown is
translated.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import Model
from django.utils.encoding import force_str


@cache
def _labels(model: type[Model], name: str) -> dict[Any, Any]:
    return dict(model._meta.get_field(name).flatchoices)  # type: ignore[union-attr]


def display(row: Model, name: str) -> str:
    """The label of ``row``'s value of the field ``name`` in the active language; a value
    that is not one of the choices is given as it is (as ``get_FOO_display()`` does)."""
    value = getattr(row, name)
    return force_str(_labels(type(row), name).get(value, value), strings_only=True)
