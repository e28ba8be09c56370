"""The ticket tests' personas serve the survey tests too."""

from kefu.tickets.tests.conftest import world

__all__ = ["world"]
