"""Shared pytest set-up: fast hashing, media in a temp dir, and the PostgreSQL marker."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KEFU_FAST_HASHER", "1")


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    # Each test's rows are rolled back behind the signals' back: no test may meet the
    # sites or time limits another test cached.
    from kefu.core import refdata

    refdata.clear()
    yield
    refdata.clear()


@pytest.fixture
def refdata_clock(monkeypatch):
    """The reference data's clock (``kefu.core.refdata``), moved by hand: ``refdata_clock(2)``
    lets two seconds pass for its checks of what other processes changed."""
    from kefu.core import refdata

    now = [1000.0]
    monkeypatch.setattr(refdata, "_clock", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in vendor:
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://… (CI runs it)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
