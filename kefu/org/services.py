"""Writes of the organisation: API tokens for integrations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ApiToken, Staff


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def api_token_issue(*, staff: Staff) -> tuple[str, datetime]:
    """A new random token for ``staff``; only its digest is stored. Expired tokens of the
    same staff member are swept on the way."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=settings.KEFU_API_TOKEN_DAYS)
    ApiToken.objects.filter(staff=staff, expires_at__lte=now).delete()
    ApiToken.objects.create(staff=staff, digest=token_digest(token), expires_at=expires_at)
    return token, expires_at
