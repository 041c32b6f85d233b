from django.utils.functional import SimpleLazyObject

from .models import Notification


def notifications(request):
    """The unread notifications badge of the navigation bar, counted only if a template asks."""
    return {"nav_unread": SimpleLazyObject(lambda: _unread(request.user))}


def _unread(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
