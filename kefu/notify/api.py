"""REST endpoints of notifications: the caller's own, read or unread, and marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, page, ref
from kefu.org.models import Staff

from .models import Notification
from .queries import notifications_for, unread_count
from .services import notification_mark_read

router = Router(tags=["通知"])

_ERRORS: dict[int | str, Any] = {401: ErrorOut, 422: ErrorOut}


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class NotificationOut(Schema):
    id: int
    event: str
    event_label: str
    title: str
    body: str
    link: str
    ref: str
    site: Ref | None
    created_at: datetime
    read_at: datetime | None
    unread: bool


class NotificationPage(Schema):
    count: int
    unread: int
    limit: int
    offset: int
    items: list[NotificationOut]


class NotificationFilters(Schema):
    unread: bool = Field(False, description="只看未读")
    limit: Limit = 20
    offset: Offset = 0


class ReadIn(Schema):
    ids: Annotated[list[Id], Field(max_length=500)] = Field(default_factory=list, description="要标为已读的通知 id")
    all: bool = Field(False, description="为 true 时把我的全部通知标为已读")


class ReadOut(Schema):
    marked: int
    unread: int


class UnreadOut(Schema):
    unread: int


def _row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "event": n.event,
        "event_label": n.event_label,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "ref": n.ref,
        "site": ref(n.site),
        "created_at": n.created_at,
        "read_at": n.read_at,
        "unread": n.read_at is None,
    }


@router.get("/notifications", response={200: NotificationPage, **_ERRORS}, summary="我的通知（未读在前）")
def notification_list(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    staff = _me(request)
    qs = notifications_for(staff)
    if filters.unread:
        qs = qs.filter(read_at__isnull=True)
    count, rows = page(qs, filters.limit, filters.offset)
    return {
        "count": count,
        "unread": unread_count(staff.pk),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_row(n) for n in rows],
    }


@router.post("/notifications/read", response={200: ReadOut, **_ERRORS}, summary="标为已读（指定 id 或全部）")
def notification_read(request: HttpRequest, payload: ReadIn) -> dict[str, Any]:
    staff = _me(request)
    if payload.all:
        marked = notification_mark_read(staff=staff)
    else:
        marked = notification_mark_read(staff=staff, ids=payload.ids)
    return {"marked": marked, "unread": unread_count(staff.pk)}


@router.get("/notifications/unread-count", response={200: UnreadOut, **_ERRORS}, summary="未读通知数")
def notification_unread_count(request: HttpRequest) -> dict[str, Any]:
    return {"unread": unread_count(_me(request).pk)}
