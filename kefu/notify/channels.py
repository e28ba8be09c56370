"""The external channels: e-mail over SMTP, a WeCom group robot, a generic SMS gateway.

Each ``send_*`` either returns (the message was accepted) or raises ``ChannelError`` with
a short reason; anything else a channel raises is caught by the service that records the
attempt, so nothing leaves the worker. Network calls time out after
``KEFU_NOTIFY_TIMEOUT`` seconds (5 by default).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .models import Channel

if TYPE_CHECKING:
    from .models import Delivery, Notification

# Bytes of a reply read: enough for any error message, never a whole page.
MAX_REPLY = 64 * 1024
SMS_MAX_CHARS = 500


class ChannelError(Exception):
    """The channel refused or could not be reached; ``str(exc)`` says why."""


def absolute(link: str) -> str:
    """A link in a message: the site's address in front of the path when it is configured."""
    if not link:
        return ""
    return f"{settings.KEFU_BASE_URL}{link}" if settings.KEFU_BASE_URL else link


def message_text(notification: Notification) -> str:
    """Title, body and link as plain text, for a chat message or a mail body."""
    parts = [notification.title]
    if notification.body:
        parts.append(notification.body)
    if notification.link:
        parts.append(absolute(notification.link))
    return "\n".join(parts)


def send(delivery: Delivery) -> None:
    """Send one delivery on its channel."""
    if delivery.channel == Channel.EMAIL:
        send_email(delivery)
    elif delivery.channel == Channel.WECOM:
        send_wecom(delivery)
    elif delivery.channel == Channel.SMS:
        send_sms(delivery)
    else:
        raise ChannelError(f"unknown channel {delivery.channel!r}")


def send_email(delivery: Delivery) -> None:
    notification = delivery.notification
    body = notification.body
    if notification.link:
        body = f"{body}\n\n{absolute(notification.link)}" if body else absolute(notification.link)
    # EMAIL_TIMEOUT bounds the SMTP conversation; the backend comes from settings.
    connection = get_connection(fail_silently=False)
    message = EmailMessage(
        subject=notification.title,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.target],
        connection=connection,
    )
    if message.send() != 1:
        raise ChannelError("the mail backend accepted no message")


def send_wecom(delivery: Delivery) -> None:
    """A WeCom (企业微信) group robot: success is HTTP 200 with ``errcode`` 0."""
    text: dict[str, Any] = {"content": message_text(delivery.notification)}
    if delivery.mentions:
        text["mentioned_mobile_list"] = list(delivery.mentions)
    status, reply = post_json(delivery.target, {"msgtype": "text", "text": text})
    if status != 200:
        raise ChannelError(f"HTTP {status}: {_snippet(reply)}")
    try:
        answer = json.loads(reply)
    except ValueError:
        raise ChannelError(f"reply is not JSON: {_snippet(reply)}") from None
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise ChannelError(f"errcode {errcode}: {errmsg}")


def send_sms(delivery: Delivery) -> None:
    """The generic SMS gateway: ``{"phone", "text"}``, optional bearer token, 2xx is success."""
    gateway = delivery.channel_target
    if gateway is None or not gateway.is_active:
        raise ChannelError("no active SMS gateway")
    notification = delivery.notification
    text = notification.title if not notification.body else f"{notification.title}：{notification.body}"
    headers = {"Authorization": f"Bearer {gateway.token}"} if gateway.token else {}
    status, reply = post_json(gateway.url, {"phone": delivery.target, "text": text[:SMS_MAX_CHARS]}, headers)
    if not 200 <= status < 300:
        raise ChannelError(f"HTTP {status}: {_snippet(reply)}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured; following it could lead anywhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST ``payload`` as UTF-8 JSON; the HTTP status and the start of the reply.
    Only http(s) URLs: urllib would also open file: and ftp: ones."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ChannelError("only http and https addresses are allowed")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=settings.KEFU_NOTIFY_TIMEOUT) as response:
            return int(response.status), response.read(MAX_REPLY)
    except urllib.error.HTTPError as exc:
        try:
            reply = exc.read(MAX_REPLY)
        except OSError:
            reply = b""
        return int(exc.code), reply
    except urllib.error.URLError as exc:
        raise ChannelError(f"cannot reach {urlsplit(url).netloc}: {exc.reason}") from None
    except TimeoutError:
        raise ChannelError(f"no answer from {urlsplit(url).netloc} within {settings.KEFU_NOTIFY_TIMEOUT}s") from None


def _snippet(reply: bytes) -> str:
    return reply[:300].decode("utf-8", "replace")
