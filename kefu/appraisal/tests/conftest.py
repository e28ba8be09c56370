"""The ticket tests' personas serve the appraisal tests too."""

from kefu.tickets.tests.conftest import world

__all__ = ["world"]
