from django.utils.functional import SimpleLazyObject

from .scoping import get_scope


def scope(request):
    """The user's roles for the navigation bar, computed only if a template asks."""
    return {
        "nav_scope": SimpleLazyObject(lambda: get_scope(request.user)),
        "nav_unread": SimpleLazyObject(lambda: _unread(request.user)),
    }


def _unread(user) -> int:
    from visits.notifications.models import Notification

    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
