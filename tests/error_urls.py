"""A test-only URLconf: the project's pages plus views that fail on purpose."""

from django.core.exceptions import PermissionDenied
from django.urls import path
from django_ratelimit.exceptions import Ratelimited

from liaison.urls import handler400, handler403, handler404, handler500
from liaison.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("a bug nobody caught, with a secret: s3cr3t-in-the-traceback")


def refuse(request):
    raise PermissionDenied  # as the admin does: no message


def limited(request):
    raise Ratelimited


urlpatterns = [
    path("test-errors/boom/", boom),
    path("test-errors/refuse/", refuse),
    path("test-errors/limited/", limited),
    *project_urlpatterns,
]
