from django.utils.functional import SimpleLazyObject

from .health import background_available


def background(request):
    """Whether background jobs can start now (liaison.health), asked only if a template does."""
    return {"background_available": SimpleLazyObject(background_available)}
