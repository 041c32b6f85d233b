"""Writes of the second factor: setting up an authenticator app, recovery codes, checking a code.

django-otp keeps the devices: a `TOTPDevice` (the app's secret; `confirmed` once the user
typed a first code) and a `StaticDevice` holding the single-use recovery codes. Every check
goes through the device's own `verify_token`, so django-otp's throttling applies: after each
wrong code the next try must wait 1, 2, 4, 8 … seconds (OTP_*_THROTTLE_FACTOR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User
    from django_otp.models import Device

APP_DEVICE_NAME = "authenticator app"
RECOVERY_DEVICE_NAME = "recovery codes"
_TOTP_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a code: the device that accepted it, or when the next try is allowed."""

    device: Device | None = None
    locked_until: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.device is not None


def normalise_code(code: str) -> str:
    """Spaces and dashes dropped, lower case: "123 456" and "ABCD-EFGH" as they were shown."""
    return re.sub(r"[\s-]", "", code).lower()


def _check(device: Device, code: str) -> CodeCheck:
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return CodeCheck(locked_until=(details or {}).get("locked_until"))
    if device.verify_token(code):  # a wrong code counts toward the device's throttling
        return CodeCheck(device=device)
    return CodeCheck()


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: one unconfirmed device, kept until it is confirmed,
    so that reloading the page or a wrong first code keeps the QR code the user scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, device: TOTPDevice, code: str) -> CodeCheck:
    """The first code from the app: the device is confirmed and replaces any earlier app."""
    locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
    if locked is None:  # confirmed meanwhile, in another tab
        return CodeCheck()
    device = locked
    result = _check(device, normalise_code(code))
    if result.accepted:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    return result


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """New single-use recovery codes (TWO_FACTOR_RECOVERY_CODES of them); the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_check(*, user: User, code: str) -> CodeCheck:
    """A code at login: six digits are for the app, anything else is a recovery code (used up once accepted)."""
    code = normalise_code(code)
    model: type[TOTPDevice | StaticDevice] = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    result = CodeCheck()
    for device in model.objects.filter(user=user, confirmed=True).select_for_update().order_by("pk"):
        result = _check(device, code)
        if result.accepted or result.locked_until:
            break
    return result


@transaction.atomic
def second_factor_remove(*, user: User) -> None:
    """The app and the recovery codes removed (a secretary turning it off, or a reset for a lost phone)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
