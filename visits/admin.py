from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from liaison.admin import ReadOnlyAdmin, ScopedAdmin, admin_site
from pairings import selectors as pairing_selectors
from pairings.models import QuotaPolicy
from pairings.rules import can_change_term_policy

from . import pledge_admin, request_admin, selectors  # noqa: F401 - the first two register their pages
from .models import FrequencyRule, Visit, VisitHelp


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


@admin.register(FrequencyRule, site=admin_site)
class FrequencyRuleAdmin(ScopedAdmin):
    list_display = ["policy", "contact_category", "member_role", "period", "minimum"]
    list_filter = ["period"]

    def get_queryset(self, request) -> QuerySet[FrequencyRule]:
        return FrequencyRule.objects.filter(policy__term__in=pairing_selectors.term_list(user=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is QuotaPolicy:
            # Only the policies this user may change (the quota policy's own rule, one predicate).
            policies = QuotaPolicy.objects.filter(term__in=pairing_selectors.term_list(user=request.user))
            allowed = [
                policy.pk
                for policy in policies.select_related("term__organisation")
                if can_change_term_policy(request.user, policy)
            ]
            kwargs["queryset"] = QuotaPolicy.objects.filter(pk__in=allowed).select_related("term")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
