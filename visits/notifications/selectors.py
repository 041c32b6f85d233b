"""Reads of notifications: each user sees only their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def notification_list(*, user: User | AnonymousUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def notified_user_ids(*, kind: str, on: date, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` who already had a notification of this kind that day."""
    return set(
        Notification.objects.filter(kind=kind, created_at__date=on, user_id__in=list(user_ids)).values_list(
            "user_id", flat=True
        )
    )
