"""Small helpers for the figures every report shows."""

from __future__ import annotations


def percent(part: int | float | None, whole: int | float | None) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal; None when there is no whole."""
    return None if not whole else round((part or 0) * 100 / whole, 1)
