from django.utils.functional import SimpleLazyObject

from .scoping import get_scope


def scope(request):
    """The user's roles for the navigation bar, computed only if a template asks."""
    return {"nav_scope": SimpleLazyObject(lambda: get_scope(request.user))}
