"""The admin site every app registers on, and the admin classes they share.

Rights come from roles (members/scoping.py, through the django-rules predicates), not from
is_staff or stored permissions: a branch secretary can sign in as soon as they are named.
This is the ground floor: no app is imported at module level, so every app may build on it.
"""

import re
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdminMixin
from simple_history.admin import SimpleHistoryAdmin

# The admin's query strings (filters, search, ordering, page): values longer than this, or holding a
# number too long for any integer column, are a 400 rather than a database error.
ADMIN_QUERY_VALUE_MAX = 1000
_TOO_MANY_DIGITS = re.compile(r"[0-9]{19,}")


def admin_query_is_sane(query: QueryDict) -> bool:
    return all(
        len(value) <= ADMIN_QUERY_VALUE_MAX and not _TOO_MANY_DIGITS.search(value)
        for _key, values in query.lists()
        for value in values
    )


class LiaisonAdminSite(admin.AdminSite):
    site_header = _("Liaison administration")
    site_title = _("Liaison")
    index_title = _("Party members liaising with and serving the public")

    def has_permission(self, request: HttpRequest) -> bool:
        from members.scoping import get_scope  # the ground floor names no app at import time

        user = request.user
        return user.is_active and (user.is_staff or get_scope(user).has_staff_role)

    def admin_view(self, view, cacheable=False):
        """Every admin page refuses absurd query values (`?id__gte=<40 digits>`, 100,000 characters) with a 400."""
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def bounded(request, *args, **kwargs):
            if not admin_query_is_sane(request.GET):
                raise BadRequest("absurd value in the admin's query string")
            return inner(request, *args, **kwargs)

        return bounded


admin_site = LiaisonAdminSite(name="admin")


class ScopedAdmin(ObjectPermissionsModelAdminMixin, SimpleHistoryAdmin):
    """Object permissions from django-rules; history from django-simple-history where the model keeps it.

    A model without `HistoricalRecords` gets Django's own history page (the admin's log
    entries) instead of django-simple-history's, which needs the historical table.
    """

    show_full_result_count = False
    list_per_page = 50

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self.keeps_history = hasattr(model._meta, "simple_history_manager_attribute")
        if not self.keeps_history:
            self.object_history_template = None  # Django's admin/object_history.html

    def get_urls(self):
        if self.keeps_history:
            return super().get_urls()
        return super(SimpleHistoryAdmin, self).get_urls()

    def history_view(self, request, object_id, extra_context=None):
        if self.keeps_history:
            return super().history_view(request, object_id, extra_context)
        return super(SimpleHistoryAdmin, self).history_view(request, object_id, extra_context)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of scope and missing look the same: a 404, not a hint that the id exists.
        raise Http404

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model._meta.label == "members.Organisation":
            from members.selectors import organisation_manageable_list

            # A foreign key to an organisation offers only the ones the user manages.
            kwargs["queryset"] = organisation_manageable_list(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


if TYPE_CHECKING:
    _ModelAdminBase = admin.ModelAdmin
else:
    _ModelAdminBase = object


class SensitiveFieldsMixin(_ModelAdminBase):
    """Personal data appears in full only to those entitled; opening it for editing is logged."""

    sensitive_fields: tuple[str, ...] = ()

    def is_entitled(self, request, obj) -> bool:
        raise NotImplementedError

    def log_access(self, request, obj) -> None:
        raise NotImplementedError

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.is_entitled(request, obj):
            fields = [f"masked_{name}" if name in self.sensitive_fields else name for name in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.is_entitled(request, obj):
            readonly += [f"masked_{name}" for name in self.sensitive_fields]
        return readonly

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is not None and not self.is_entitled(request, obj):
            exclude += self.sensitive_fields
        return exclude

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if request.method == "GET" and obj is not None and self.is_entitled(request, obj):
            self.log_access(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyAdmin(ObjectPermissionsModelAdminMixin, admin.ModelAdmin):
    show_full_result_count = False

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
