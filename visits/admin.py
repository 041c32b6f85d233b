from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from liaison.admin import ReadOnlyAdmin, ScopedAdmin, admin_site, choice_scope_register

from . import selectors
from .models import Visit, VisitHelp

# What a user may pick when writing, for every admin form on the site (liaison/admin.py).
choice_scope_register("visits.Visit", selectors.visit_manageable_list)


class VisitHelpInline(admin.TabularInline):
    model = VisitHelp
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Visit, site=admin_site)
class VisitAdmin(ReadOnlyAdmin, ScopedAdmin):
    """Logs are written by members on their pages; here they are read, with their history."""

    list_display = ["happened_on", "mode", "member_name", "contact_name", "situation"]
    list_filter = ["mode", "situation", "pairing__term"]
    search_fields = ["pairing__member__name", "pairing__contact__name"]
    date_hierarchy = "happened_on"
    inlines = [VisitHelpInline]

    @admin.display(description=_("party member"))
    def member_name(self, obj: Visit) -> str:
        return obj.pairing.member.name

    @admin.display(description=_("contact"))
    def contact_name(self, obj: Visit) -> str:
        return obj.pairing.contact.name

    def get_queryset(self, request) -> QuerySet[Visit]:
        return selectors.visit_list(user=request.user)
