"""Admin pages for requests (诉求), registered on liaison.admin.admin_site.

The admin never moves a request through the workflow: state, supervision, the
responsible person and the deadline are read-only here, and new requests are
recorded on the app's pages, so every step goes through visits/requests/services.py and
lands in the request's history.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from liaison.admin import ScopedAdmin, admin_site, choice_scope_register

from .models import Request, RequestTransition
from .selectors import request_list, request_manageable_list

# What a user may pick when writing, for every admin form on the site (liaison/admin.py).
choice_scope_register("requests.Request", request_manageable_list)


class RequestTransitionInline(admin.TabularInline):
    model = RequestTransition
    fields = ("at", "from_state", "to_state", "by", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RequestTransition]:
        return super().get_queryset(request).select_related("by")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("requests.view_requesttransition", obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SupervisedFilter(admin.SimpleListFilter):
    title = _("supervised")
    parameter_name = "supervised"

    def lookups(self, request, model_admin):
        return [("yes", _("Supervised")), ("no", _("Not supervised"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(supervised_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(supervised_at__isnull=True)
        return queryset


@admin.register(Request, site=admin_site)
class RequestAdmin(ScopedAdmin):
    list_display = ["summary", "organisation", "source", "state", "responsible", "deadline", "supervised_at"]
    list_filter = [
        "state",
        "source",
        SupervisedFilter,
        "deadline",
        ("organisation", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["organisation", "responsible"]
    search_fields = ["summary", "details"]
    date_hierarchy = "created_at"
    fields = [
        "organisation",
        "source",
        "contact",
        "visit",
        "summary",
        "details",
        "state",
        "responsible",
        "deadline",
        "supervised_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "visit",
        "state",
        "responsible",
        "deadline",
        "supervised_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["organisation", "contact"]
    inlines = [RequestTransitionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Request]:
        return request_list(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Recorded on the app's pages, where the first step of the history is written.
        return False
