"""Writes for notifications: the other apps tell people things through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from django.db import transaction
from django.utils import timezone

from .models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A message longer than the column is cut (the link leads to the whole story).
MESSAGE_LENGTH = Notification._meta.get_field("message").max_length or 300


class Notice(NamedTuple):
    user_id: int
    kind: str
    message: str
    url: str = ""


def notifications_send(*, notices: Iterable[Notice]) -> list[Notification]:
    """One insert for all the notices, whoever they are for."""
    return Notification.objects.bulk_create(
        Notification(user_id=notice.user_id, kind=notice.kind, message=notice.message, url=notice.url)
        for notice in notices
    )


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
