from django.contrib import admin
from django.db.models import QuerySet

from members import selectors as member_selectors
from members.admin import ScopedAdmin, admin_site
from members.scoping import get_scope

from . import selectors
from .models import Pairing, Term


@admin.register(Term, site=admin_site)
class TermAdmin(ScopedAdmin):
    list_display = ["name", "organisation", "kind", "starts_on", "ends_on", "is_current"]
    list_filter = ["kind", "is_current"]
    search_fields = ["name"]

    def get_queryset(self, request) -> QuerySet[Term]:
        return selectors.term_list(user=request.user)


@admin.register(Pairing, site=admin_site)
class PairingAdmin(ScopedAdmin):
    list_display = ["member", "contact", "term", "status", "started_on", "ended_on"]
    list_filter = ["status", "term"]
    search_fields = ["member__name", "contact__name"]
    autocomplete_fields = ["member", "contact"]

    def get_queryset(self, request) -> QuerySet[Pairing]:
        scope = get_scope(request.user)
        return Pairing.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="member__organisation__")
        ).select_related("member", "contact", "term")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "member":
            scope = get_scope(request.user)
            kwargs["queryset"] = member_selectors.member_list(user=request.user).filter(
                scope.subtree_q(scope.manage_paths)
            )
        elif db_field.name == "contact":
            scope = get_scope(request.user)
            kwargs["queryset"] = member_selectors.contact_list(user=request.user).filter(
                scope.subtree_q(scope.manage_paths)
            )
        elif db_field.name == "term":
            kwargs["queryset"] = selectors.term_list(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
