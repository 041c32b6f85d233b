"""Admin pages for pledges, service posts, claims and community registrations, on liaison.admin.admin_site.

Pledges move through their lifecycle on the members' and secretaries' pages (with the
yearly limit and the evaluation rules); here secretaries find, read and correct them.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from liaison.admin import ScopedAdmin, admin_site, choice_scope_register

from . import selectors as pledge_selectors
from . import services as pledges
from .models import CommunityRegistration, Pledge, PledgeProgress, PostClaim, ServicePost

# What a user may pick when writing, for every admin form on the site (liaison/admin.py).
choice_scope_register("pledges.Pledge", pledge_selectors.pledge_manageable_list)
choice_scope_register("pledges.ServicePost", pledge_selectors.post_managed_list)


class PledgeProgressInline(admin.TabularInline):
    model = PledgeProgress
    extra = 0
    fields = ["happened_on", "note"]
    readonly_fields = ["happened_on", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # progress is the member's own record, added on their page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Pledge, site=admin_site)
class PledgeAdmin(ScopedAdmin):
    list_display = ["title", "member", "organisation", "year", "state", "rating"]
    list_filter = ["year", "state", "rating", ("member__organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "member__name"]
    fields = [
        "member",
        "year",
        "title",
        "description",
        "state",
        "made_public_on",
        "report",
        "rating",
        "evaluation",
        "evaluated_by",
    ]
    readonly_fields = ["member", "year", "state", "made_public_on", "report", "rating", "evaluation", "evaluated_by"]
    inlines = [PledgeProgressInline]

    @admin.display(description=_("organisation"), ordering="member__organisation__path")
    def organisation(self, obj: Pledge) -> str:
        return str(obj.member.organisation)

    def get_queryset(self, request) -> QuerySet[Pledge]:
        scope = request.scope
        return Pledge.objects.filter(scope.subtree_q(scope.read_paths, prefix="member__organisation__")).select_related(
            "member__organisation", "evaluated_by"
        )

    def has_add_permission(self, request) -> bool:
        return False  # members make pledges on their page, at most two a year


class ServicePostAdminForm(forms.ModelForm):
    class Meta:
        model = ServicePost
        fields = ["organisation", "title", "duties", "places", "is_open"]

    def clean_places(self):
        places = self.cleaned_data["places"]
        if self.instance.pk is not None:
            taken = self.instance.claims.filter(released_on__isnull=True).count()
            if places < taken:
                raise forms.ValidationError(
                    _("%(taken)s members hold this post now: keep at least that many places.") % {"taken": taken}
                )
        return places


@admin.register(ServicePost, site=admin_site)
class ServicePostAdmin(ScopedAdmin):
    form = ServicePostAdminForm
    list_display = ["title", "organisation", "places", "taken", "is_open"]
    list_filter = ["is_open", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "duties"]
    autocomplete_fields = ["organisation"]

    @admin.display(description=_("places taken"), ordering="taken")
    def taken(self, obj: ServicePost) -> int:
        return obj.taken  # type: ignore[attr-defined]  # annotated by get_queryset below

    def get_queryset(self, request) -> QuerySet[ServicePost]:
        scope = request.scope
        return (
            ServicePost.objects.filter(scope.subtree_q(scope.read_paths))
            .select_related("organisation")
            .annotate(taken=Count("claims", filter=Q(claims__released_on__isnull=True)))
        )


@admin.register(PostClaim, site=admin_site)
class PostClaimAdmin(ScopedAdmin):
    list_display = ["post", "member", "claimed_on", "released_on"]
    list_filter = [
        ("released_on", admin.EmptyFieldListFilter),
        ("post__organisation", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["post__title", "member__name"]
    fields = ["post", "member", "claimed_on", "released_on"]
    readonly_fields = ["post", "member", "claimed_on"]
    date_hierarchy = "claimed_on"

    def get_queryset(self, request) -> QuerySet[PostClaim]:
        scope = request.scope
        return PostClaim.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="member__organisation__")
        ).select_related("post__organisation", "member")

    def has_add_permission(self, request) -> bool:
        return False  # members claim posts for themselves on the posts page


class CommunityRegistrationAdminForm(forms.ModelForm):
    class Meta:
        model = CommunityRegistration
        fields = ["member", "community", "registered_on"]

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        if self.instance.pk is None and all(cleaned.get(name) for name in ("member", "community", "registered_on")):
            pledges.community_registration_validate(
                member=cleaned["member"], community=cleaned["community"], registered_on=cleaned["registered_on"]
            )
        return cleaned


@admin.register(CommunityRegistration, site=admin_site)
class CommunityRegistrationAdmin(ScopedAdmin):
    form = CommunityRegistrationAdminForm
    list_display = ["member", "organisation", "community", "registered_on"]
    list_filter = [("community", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["member__name", "community__name"]
    autocomplete_fields = ["member"]
    date_hierarchy = "registered_on"
    choice_scopes = {
        "member": pledge_selectors.member_registrable_list,
        # Wider than the user's tree, on purpose: a member reports to the community where they live.
        "community": lambda *, user: pledge_selectors.community_choices(),
    }

    @admin.display(description=_("branch"), ordering="member__organisation__path")
    def organisation(self, obj: CommunityRegistration) -> str:
        return str(obj.member.organisation)

    def get_queryset(self, request) -> QuerySet[CommunityRegistration]:
        scope = request.scope
        return CommunityRegistration.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="member__organisation__")
        ).select_related("member__organisation", "community")

    def get_readonly_fields(self, request, obj=None):
        return ["member"] if obj is not None else []
