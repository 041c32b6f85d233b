"""Admin pages for organisations, people and appointments, scoped to each user's subtree.

The site itself and the classes every app's admin shares live in liaison/admin.py.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdminMixin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from liaison.admin import ReadOnlyAdmin, ScopedAdmin, SensitiveFieldsMixin, UnprobeableMixin, admin_site

from . import selectors
from .masking import MASKED_FIELDS
from .models import Appointment, Contact, ImportJob, Member, Organisation, SensitiveAccess
from .services import check_contact_reasons, check_member_organisation, contact_reveal, member_reveal


@admin.register(Organisation, site=admin_site)
class OrganisationAdmin(TreeAdmin, ScopedAdmin):
    form = movenodeform_factory(Organisation, fields=["name", "code", "kind", "secretary"])
    list_display = ["name", "code", "kind", "secretary"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["secretary"]

    def get_queryset(self, request) -> QuerySet[Organisation]:
        # TreeAdmin picks the level of the tree the changelist shows (and notes its parent on
        # the request for the template); the user's scope then narrows it. The top level is the
        # top of the user's own subtrees, which for a branch secretary is not the tree's root.
        level = super().get_queryset(request)
        scoped = selectors.organisation_list(user=request.user)
        if not self._drills_down(request):
            return scoped
        parent = request._treebeard_parent
        if parent is None:
            return selectors.organisation_read_roots(user=request.user)
        if not scoped.filter(pk=parent.pk).exists():
            raise Http404
        return level & scoped

    def _drills_down(self, request) -> bool:
        """Whether the changelist shows one level of the tree (not a search, a filter or a filter panel)."""
        return (
            hasattr(request, "_treebeard_parent_id")
            and not getattr(request, "_ignore_treebeard_filters", False)
            and not self.is_filtered(request)
        )


MEMBER_FIELDS = [
    "name",
    "gender",
    "organisation",
    "category",
    "status",
    "roles",
    "joined_on",
    "id_number",
    "phone",
    "user",
]
CONTACT_FIELDS = [
    "name",
    "gender",
    "organisation",
    "category",
    "kind",
    "reasons",
    "unit",
    "id_number",
    "phone",
    "address",
    "notes",
]


class MemberAdminForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = MEMBER_FIELDS

    def clean_organisation(self):
        organisation = self.cleaned_data["organisation"]
        check_member_organisation(organisation)
        return organisation


@admin.register(Member, site=admin_site)
class MemberAdmin(SensitiveFieldsMixin, ScopedAdmin):
    form = MemberAdminForm
    list_display = ["name", "gender", "organisation", "category", "status", "masked_phone", "user"]
    list_filter = ["category", "status", "gender", "roles", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    autocomplete_fields = ["organisation", "user"]
    filter_horizontal = ["roles"]
    sensitive_fields = MASKED_FIELDS["members.Member"]
    fields = tuple(MEMBER_FIELDS)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Member) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Member) -> str:
        return obj.masked_id_number

    def get_queryset(self, request) -> QuerySet[Member]:
        return selectors.member_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.scope.is_administrator:
            readonly.append("user")  # linking login accounts is the committee's job
        return readonly

    def is_entitled(self, request, obj) -> bool:
        return selectors.member_is_entitled(user=request.user, member=obj)

    def log_access(self, request, obj, action: str) -> None:
        member_reveal(user=request.user, member=obj, action=action)


class ContactAdminForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = CONTACT_FIELDS

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        if "category" in cleaned and "reasons" in cleaned:
            check_contact_reasons(
                category=cleaned["category"], reason_codes=[reason.code for reason in cleaned["reasons"]]
            )
        return cleaned


@admin.register(Contact, site=admin_site)
class ContactAdmin(SensitiveFieldsMixin, ScopedAdmin):
    form = ContactAdminForm
    list_display = ["name", "gender", "category", "organisation", "unit", "masked_phone"]
    list_filter = ["category", "kind", "reasons", "gender", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "unit"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["reasons"]
    sensitive_fields = MASKED_FIELDS["members.Contact"]
    fields = tuple(CONTACT_FIELDS)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Contact) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Contact) -> str:
        return obj.masked_id_number

    @admin.display(description=_("address"))
    def masked_address(self, obj: Contact) -> str:
        return obj.masked_address

    def get_queryset(self, request) -> QuerySet[Contact]:
        return selectors.contact_list(user=request.user)

    def is_entitled(self, request, obj) -> bool:
        return selectors.contact_is_entitled(user=request.user, contact=obj)

    def log_access(self, request, obj, action: str) -> None:
        contact_reveal(user=request.user, contact=obj, action=action)


@admin.register(Appointment, site=admin_site)
class AppointmentAdmin(ScopedAdmin):
    list_display = ["user", "role", "organisation"]
    list_filter = ["role"]
    autocomplete_fields = ["user", "organisation"]
    search_fields = ["user__username", "organisation__name"]

    def get_queryset(self, request) -> QuerySet[Appointment]:
        scope = request.scope
        return Appointment.objects.filter(scope.subtree_q(scope.administrator_paths)).select_related(
            "user", "organisation"
        )


@admin.register(SensitiveAccess, site=admin_site)
class SensitiveAccessAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "user", "action", "contact", "member", "fields"]
    list_filter = ["action"]
    date_hierarchy = "accessed_at"
    search_fields = ["user__username", "contact__name", "member__name"]
    show_full_result_count = False

    def get_queryset(self, request) -> QuerySet[SensitiveAccess]:
        return selectors.sensitive_access_list(user=request.user)


@admin.register(ImportJob, site=admin_site)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "filename",
        "kind",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "created_by",
    ]
    list_filter = ["kind", "status"]
    exclude = ["content"]

    def get_queryset(self, request) -> QuerySet[ImportJob]:
        queryset = ImportJob.objects.defer("content").select_related("created_by")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(created_by=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.scope.can_manage_any


@admin.register(User, site=admin_site)
class LiaisonUserAdmin(ObjectPermissionsModelAdminMixin, UnprobeableMixin, UserAdmin):
    """Committee administrators manage login accounts; only superusers grant superuser rights."""

    limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.limited_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["last_login", "date_joined"]

    def get_queryset(self, request) -> QuerySet[User]:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(is_superuser=False)


admin_site.register(Group)
