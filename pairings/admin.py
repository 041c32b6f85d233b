from django import forms
from django.contrib import admin
from django.db.models import QuerySet

from liaison.admin import ScopedAdmin, ScopedInline, admin_site, choice_scope_register
from members import selectors as member_selectors

from . import selectors, services
from .models import FrequencyRule, Pairing, QuotaOverride, QuotaPolicy, QuotaRule, Term

# What a user may pick when writing, for every admin form on the site (liaison/admin.py).
choice_scope_register("pairings.Term", selectors.term_manageable_list)
choice_scope_register("pairings.QuotaPolicy", selectors.policy_manageable_list)
choice_scope_register("pairings.Pairing", selectors.pairing_manageable_list)


class TermAdminForm(forms.ModelForm):
    class Meta:
        model = Term
        fields = ["organisation", "name", "kind", "starts_on", "ends_on", "is_current", "closed_at"]

    def clean(self):
        cleaned = super().clean() or {}
        organisation, starts_on, ends_on = (cleaned.get(name) for name in ("organisation", "starts_on", "ends_on"))
        if organisation is not None and starts_on is not None and ends_on is not None:
            services.check_term_dates(
                organisation=organisation, starts_on=starts_on, ends_on=ends_on, term=self.instance
            )
        return cleaned


@admin.register(Term, site=admin_site)
class TermAdmin(ScopedAdmin):
    form = TermAdminForm
    list_display = ["name", "organisation", "kind", "starts_on", "ends_on", "is_current"]
    list_filter = ["kind", "is_current"]
    search_fields = ["name"]
    choice_scopes = {"organisation": selectors.term_organisation_choices}

    def get_queryset(self, request) -> QuerySet[Term]:
        return selectors.term_list(user=request.user)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new term gets its tree root and the default policy, as on the "open a new term" page.
        created = services.term_create(
            organisation=obj.organisation,
            name=obj.name,
            kind=obj.kind,
            starts_on=obj.starts_on,
            ends_on=obj.ends_on,
            is_current=obj.is_current,
        )
        obj.pk = created.pk


class PairingAdminForm(forms.ModelForm):
    class Meta:
        model = Pairing
        fields = ["member", "contact", "term", "theme", "started_on"]

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        if self.instance.pk is None and all(cleaned.get(name) for name in ("member", "contact", "term")):
            services.pairing_validate(member=cleaned["member"], contact=cleaned["contact"], term=cleaned["term"])
        return cleaned


@admin.register(Pairing, site=admin_site)
class PairingAdmin(ScopedAdmin):
    """New pairings go through the same rules as everywhere; ending one is done on the pairing page."""

    form = PairingAdminForm
    list_display = ["member", "contact", "term", "status", "started_on", "ended_on"]
    list_filter = ["status", "term"]
    search_fields = ["member__name", "contact__name"]
    autocomplete_fields = ["member", "contact"]

    def get_queryset(self, request) -> QuerySet[Pairing]:
        scope = request.scope
        return Pairing.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="member__organisation__")
        ).select_related("member", "contact", "term")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["member", "contact", "term", "started_on", "status", "ended_on", "end_reason"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["member", "contact", "term", "theme", "started_on"]
        return ["member", "contact", "term", "theme", "started_on", "status", "ended_on", "end_reason"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["theme"])
        else:
            created = services.pairing_create(
                member=obj.member, contact=obj.contact, term=obj.term, started_on=obj.started_on, theme=obj.theme
            )
            obj.pk = created.pk


class QuotaRuleInline(ScopedInline):
    model = QuotaRule
    extra = 0
    fields = ["organisation", "member_category", "member_role", "contact_category", "unit", "required"]
    autocomplete_fields = ["organisation"]
    # The policy is its administrators' (pairings.rules.can_change_term_policy): so are the organisations a rule names.
    choice_scopes = {"organisation": member_selectors.organisation_administered_list}


@admin.register(QuotaPolicy, site=admin_site)
class QuotaPolicyAdmin(ScopedAdmin):
    list_display = ["term", "max_members_per_contact"]
    readonly_fields = ["term"]  # a policy is its term's for good
    inlines = [QuotaRuleInline]

    def get_queryset(self, request) -> QuerySet[QuotaPolicy]:
        return QuotaPolicy.objects.filter(term__in=selectors.term_list(user=request.user)).select_related("term")


class QuotaOverrideAdminForm(forms.ModelForm):
    class Meta:
        model = QuotaOverride
        fields = ["term", "member", "contact_category", "unit", "required", "reason"]

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        if cleaned.get("member") and cleaned.get("term"):
            services.check_member_in_term_tree(member=cleaned["member"], term=cleaned["term"])
        return cleaned


@admin.register(QuotaOverride, site=admin_site)
class QuotaOverrideAdmin(ScopedAdmin):
    form = QuotaOverrideAdminForm
    list_display = ["member", "term", "contact_category", "unit", "required", "reason"]
    list_filter = ["term", "contact_category"]
    search_fields = ["member__name"]
    autocomplete_fields = ["member"]

    def get_queryset(self, request) -> QuerySet[QuotaOverride]:
        scope = request.scope
        return QuotaOverride.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="member__organisation__")
        ).select_related("member", "term")


@admin.register(FrequencyRule, site=admin_site)
class FrequencyRuleAdmin(ScopedAdmin):
    list_display = ["policy", "contact_category", "member_role", "period", "minimum"]
    list_filter = ["period"]

    def get_queryset(self, request) -> QuerySet[FrequencyRule]:
        return FrequencyRule.objects.filter(policy__term__in=selectors.term_list(user=request.user))
