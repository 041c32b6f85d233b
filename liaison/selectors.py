"""The one shape of every `<entity>_get_for_user` selector. No app is imported here.

Each app's selectors say which rows a user may see (`<entity>_list(user=...)`); the
`<entity>_get_for_user` beside them finds one of those rows by id for a view, the admin or
the API, and answers a 404 otherwise, so that out of scope and missing look the same.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.functional import Promise

ModelT = TypeVar("ModelT", bound=Model)


def object_for_user(queryset: QuerySet[ModelT], message: str | Promise, **lookup: object) -> ModelT:
    """The one row of a scoped queryset that matches, or a 404 with the message the user reads."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404(message)
    return found
