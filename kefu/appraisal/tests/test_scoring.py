"""Scores from figures, by hand."""

from __future__ import annotations

from decimal import Decimal

from kefu.appraisal.scoring import Rules, adjustments, combined, kpi_score, kpi_scores

TECH = Rules(weights={"handled": 35, "on_time": 35, "satisfaction": 30}, handled_target=60, sheet_share=30)


def test_handled_scores_against_the_monthly_target_and_caps_at_100():
    assert kpi_scores({"months": 1, "handled": 30}, TECH)["handled"] == Decimal("50.00")
    assert kpi_scores({"months": 3, "handled": 90}, TECH)["handled"] == Decimal("50.00")  # a quarter: 180 is full
    assert kpi_scores({"months": 1, "handled": 500}, TECH)["handled"] == Decimal("100.00")


def test_a_kpi_without_data_leaves_its_weight_out():
    scores = kpi_scores({"months": 1, "handled": 60, "on_time": 80.0, "satisfaction": None}, TECH)
    assert scores == {"handled": Decimal("100.00"), "on_time": Decimal("80.00"), "satisfaction": None}
    # (35 × 100 + 35 × 80) / 70 = 90
    assert kpi_score(scores, TECH) == Decimal("90.00")
    assert kpi_score({"handled": None, "on_time": None}, TECH) is None


def test_cards_praise_and_the_ledger_adjust():
    figures = {"cards": {"yellow": 2, "red": 1}, "praise": 3, "rewards": 5.0, "penalties": 2.0}
    # + 3 × 2 − (2 × 3 + 1 × 10) + 5 − 2 = −7
    assert adjustments(figures, TECH) == Decimal("-7.00")


def test_combined_share_and_floor():
    assert combined(Decimal("80"), Decimal("90"), Decimal("0"), TECH) == Decimal("83.00")  # 80 × .7 + 90 × .3
    assert combined(Decimal("80"), None, Decimal("-5"), TECH) == Decimal("75.00")
    assert combined(None, Decimal("60"), Decimal("0"), TECH) == Decimal("60.00")
    assert combined(Decimal("3"), None, Decimal("-20"), TECH) == Decimal("0.00")
    assert combined(None, None, Decimal("5"), TECH) is None
