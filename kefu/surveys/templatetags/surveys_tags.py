from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pick(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template, or an empty list."""
    try:
        return mapping.get(key, [])
    except AttributeError:
        return []


@register.filter
def item_errors(errors: Any, position: int) -> Any:
    """The messages for question ``position`` (field ``q<position>``)."""
    return pick(errors, f"q{position}")
