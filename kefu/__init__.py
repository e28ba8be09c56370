"""Kefu 客服 — a self-hosted customer-service centre system."""

__version__ = "0.1.0"
