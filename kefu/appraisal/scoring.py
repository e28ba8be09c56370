"""From a person's figures to their score: pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PERCENT_KPIS = ("on_time", "satisfaction", "visits_on_time", "first_contact")
KPIS = ("handled", *PERCENT_KPIS)


@dataclass(frozen=True)
class Rules:
    """A role's scheme as plain values."""

    weights: dict[str, int]
    handled_target: int = 60
    sheet_share: int = 30
    card_points: dict[str, int] = field(default_factory=lambda: {"blue": 1, "yellow": 3, "red": 10})
    praise_points: int = 2


def to_points(value: float | int | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def kpi_scores(figures: dict[str, Any], rules: Rules) -> dict[str, Decimal | None]:
    """Each weighted KPI on a 0–100 scale: a rate is its own score; handled tickets score
    against the role's monthly target (pro rata to the period's months). None: no data."""
    months = max(figures.get("months", 1), 1)
    out: dict[str, Decimal | None] = {}
    for code in KPIS:
        if not rules.weights.get(code):
            continue
        value = figures.get(code)
        if value is None:
            out[code] = None
        elif code == "handled":
            out[code] = to_points(min(100, value * 100 / (rules.handled_target * months)))
        else:
            out[code] = to_points(value)
    return out


def kpi_score(scores: dict[str, Decimal | None], rules: Rules) -> Decimal | None:
    """The weighted mean of the KPIs that have data (a KPI without data leaves its weight out)."""
    weighted = [(rules.weights[code], s) for code, s in scores.items() if s is not None and rules.weights.get(code)]
    total_weight = sum(w for w, _s in weighted)
    if not total_weight:
        return None
    return to_points(sum(w * s for w, s in weighted) / total_weight)


def adjustments(figures: dict[str, Any], rules: Rules) -> Decimal:
    """Praise and rewards add, warning cards and penalties take off."""
    cards = figures.get("cards", {})
    taken = sum(rules.card_points.get(color, 0) * n for color, n in cards.items())
    given = rules.praise_points * figures.get("praise", 0)
    return to_points(given - taken + float(figures.get("rewards", 0)) - float(figures.get("penalties", 0)))


def combined(kpi: Decimal | None, sheet: Decimal | None, adjust: Decimal, rules: Rules) -> Decimal | None:
    """综合得分 = KPI score × (1 − sheet share) + score-sheet score × sheet share, plus the
    adjustments; without a score sheet the KPI score stands alone, without both there is none."""
    if kpi is None and sheet is None:
        return None
    if sheet is None:
        base = kpi
    elif kpi is None:
        base = sheet
    else:
        share = Decimal(rules.sheet_share) / 100
        base = kpi * (1 - share) + sheet * share
    assert base is not None
    return to_points(max(Decimal(0), base + adjust))
