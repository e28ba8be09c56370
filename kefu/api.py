"""The REST API under /api/v1/: one NinjaAPI, with a router per app (``<app>/api.py``)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Kefu 客服 API", version="1.0.0", urls_namespace="api")
