"""Phone number helpers: normalising, validating and masking (138****1234)."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize(raw: str) -> str:
    """Strip spaces, dashes of mobiles and the +86 prefix; keep landline dashes."""
    value = (raw or "").strip().replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    digits = value.replace("-", "")
    if _MOBILE.match(digits):
        return digits
    return value


_LOCAL = re.compile(r"^[2-9]\d{6,7}$")  # a landline dialled without its area code
_SERVICE = re.compile(r"^[48]00-?\d{3}-?\d{4}$")  # 400/800 hotlines


def is_valid(number: str) -> bool:
    return any(p.match(number) for p in (_MOBILE, _LANDLINE, _LOCAL, _SERVICE))


def mask(number: str) -> str:
    """138****1234 for mobiles; landlines keep area code and last four digits."""
    if not number:
        return ""
    if len(number) <= 4:
        return "*" * len(number)
    if _MOBILE.match(number):
        return f"{number[:3]}****{number[-4:]}"
    keep = number[:4] if number.startswith("0") else ""
    return f"{keep}{'*' * max(len(number) - len(keep) - 4, 1)}{number[-4:]}"


def last4(number: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    return digits[-4:]
