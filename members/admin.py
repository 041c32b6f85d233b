"""Admin pages for organisations, people and appointments, scoped to each user's subtree.

The site itself and the classes every app's admin shares live in liaison/admin.py.
"""

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from rules.contrib.admin import ObjectPermissionsModelAdminMixin
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from liaison.admin import (
    WRITE_REFUSED,
    ReadOnlyAdmin,
    ScopedAdmin,
    SensitiveFieldsMixin,
    UnprobeableMixin,
    admin_site,
    choice_scope_register,
    shared_vocabulary,
)
from liaison.params import int_param

from . import selectors
from .masking import MASKED_FIELDS
from .models import (
    AccountEvent,
    Appointment,
    Contact,
    ContactReason,
    ImportJob,
    LeadershipRole,
    Member,
    Organisation,
    SensitiveAccess,
)
from .services import (
    account_changes_logged,
    account_check_manageable,
    account_password_logged,
    check_contact_reasons,
    check_member_organisation,
    contact_reveal,
    lockout_release,
    member_reveal,
)

# What a user may pick when writing, for every admin form on the site (liaison/admin.py).
choice_scope_register("members.Organisation", selectors.organisation_manageable_list)
choice_scope_register("members.Member", selectors.member_manageable_list)
choice_scope_register("members.Contact", selectors.contact_manageable_list)
choice_scope_register("auth.User", selectors.user_linkable_list)
choice_scope_register("members.LeadershipRole", shared_vocabulary(LeadershipRole))
choice_scope_register("members.ContactReason", shared_vocabulary(ContactReason))

TREE_FIELDS = {"treebeard_ref_node", "treebeard_position"}


class OrganisationAdminForm(MoveNodeForm):
    """treebeard's form, placing a node only relative to organisations the user administers."""

    scope_user: Any = None  # the request's user, set per request by OrganisationAdmin.get_form

    def _set_ref_model_queryset(self, opts, instance):
        super()._set_ref_model_queryset(opts, instance)
        field = self.fields["treebeard_ref_node"]
        field.queryset = field.queryset.filter(pk__in=selectors.organisation_administered_list(user=self.scope_user))
        field.choice_scope = "members.OrganisationAdminForm.treebeard_ref_node"

    def new_parent(self) -> Organisation | None:
        """Where the node lands: under the reference node, or beside it (under its parent); None at the top."""
        reference = self.cleaned_data.get("treebeard_ref_node")
        if reference is None:
            return None
        if self.cleaned_data.get("treebeard_position") == "sorted-child":
            return reference
        return Organisation.objects.get_parent(reference)


@admin.register(Organisation, site=admin_site)
class OrganisationAdmin(TreeAdmin, ScopedAdmin):
    form = movenodeform_factory(Organisation, form=OrganisationAdminForm, fields=["name", "code", "kind", "secretary"])
    list_display = ["name", "code", "kind", "secretary"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["secretary"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.scope_user = request.user
        return form

    def write_allowed(self, request, form) -> bool:
        # A new node, or one moved, also needs the organisation it lands under: one the user
        # administers (the top of a new tree is a superuser's to make).
        if not form.instance._state.adding and not super().write_allowed(request, form):
            return False
        if form.instance._state.adding or set(form.changed_data) & TREE_FIELDS:
            return self.may_place_under(request, form.new_parent())
        return True

    def may_place_under(self, request, parent: Organisation | None) -> bool:
        if parent is None:
            return request.user.is_superuser  # asked with no object, the rule would answer for the model
        return request.user.has_perm("members.add_organisation", parent)

    def move_node(self, request):
        # Dragging a node in the tree: treebeard checks the node, not where it is dropped.
        target_id = int_param(request.POST.get("target"))
        target = Organisation.objects.filter(pk=target_id).first() if target_id is not None else None
        if target is not None:
            parent = target if request.POST.get("relation") == "child" else Organisation.objects.get_parent(target)
            if not self.may_place_under(request, parent):
                messages.error(request, WRITE_REFUSED)
                raise PermissionDenied
        return super().move_node(request)

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.fields.get("user")
        if user is not None and self.instance.user_id is not None:
            # The account linked now stays a valid choice, even one the editor does not manage.
            offered = user.queryset  # type: ignore[attr-defined]  # a ModelChoiceField
            user.queryset = User.objects.filter(  # type: ignore[attr-defined]
                Q(pk__in=offered.values("pk")) | Q(pk=self.instance.user_id)
            )

    def clean_organisation(self):
        organisation = self.cleaned_data["organisation"]
        check_member_organisation(organisation)
        return organisation


@admin.register(Member, site=admin_site)
class MemberAdmin(SensitiveFieldsMixin, ScopedAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # for superusers too: people are never deleted here (members/rules.py)

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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Only an account the administrator manages can be linked: linking another one (the
            # inspector's, an unattached one of another committee) would make it theirs to reset.
            kwargs["queryset"] = selectors.account_list(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # for superusers too: people are never deleted here (members/rules.py)

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
    # Appointing is the administrators' own business: only where they administer, not where they are secretary.
    choice_scopes = {"organisation": selectors.organisation_administered_list}

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
    """Login accounts. Superusers manage every one; a committee administrator the accounts of their
    committee (selectors.account_list) and nothing that would give anyone more rights than theirs:
    no staff or superuser flag, no permissions, only groups they hold themselves. Every password
    set, account created, (de)activated or regrouped is written to the account log.
    """

    limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "groups")}),
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

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ["is_active"]

    def get_queryset(self, request) -> QuerySet[User]:
        return selectors.account_list(user=request.user).order_by("username")

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404  # out of scope and missing look the same

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name != "groups":
            return super().formfield_for_manytomany(db_field, request, **kwargs)
        kwargs["queryset"] = self._grantable_groups(request)
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None:
            formfield.choice_scope = "members.selectors.group_grantable_list"  # type: ignore[attr-defined]
        return formfield

    def _grantable_groups(self, request) -> QuerySet[Group]:
        return selectors.group_grantable_list(user=request.user)

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            account_check_manageable(by=request.user, account=obj)
            before = User.objects.filter(pk=obj.pk).values_list("is_active", flat=True).first()
        groups_before = set(obj.groups.values_list("pk", flat=True)) if change else set()
        setattr(request, "_account_before", (before, groups_before))  # noqa: B010 — read in save_related
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        account = form.instance
        was_active, groups_before = getattr(request, "_account_before", (None, set()))
        # Groups this administrator could not offer stay as they were: the form only shows theirs.
        offered: set[int] = {group.pk for group in self._grantable_groups(request)}
        kept: set[int] = {pk for pk in groups_before if pk not in offered}
        if kept:
            account.groups.add(*kept)
        account_changes_logged(
            by=request.user,
            account=account,
            created=not change,
            was_active=account.is_active if was_active is None else was_active,
            groups_before=set(Group.objects.filter(pk__in=groups_before).values_list("name", flat=True)),
        )

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        account = self.get_object(request, unquote(id))
        password_before = account.password if account is not None else ""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and account is not None:
                account_password_logged(by=request.user, account=account, password_before=password_before)
        return response


admin_site.register(Group)


@admin.register(AccountEvent, site=admin_site)
class AccountEventAdmin(ReadOnlyAdmin):
    """The account log, read-only: administrators and inspectors of the account's subtree read it."""

    list_display = ["at", "kind", "username", "by_username", "organisation", "ip_address", "detail"]
    list_filter = ["kind"]
    date_hierarchy = "at"
    search_fields = ["username", "by_username"]
    fields = readonly_fields = (
        "at",
        "kind",
        "username",
        "account",
        "by_username",
        "by",
        "organisation",
        "ip_address",
        "detail",
    )

    def get_queryset(self, request) -> QuerySet[AccountEvent]:
        return selectors.account_event_list(user=request.user)


class LockoutAdmin(ReadOnlyAdmin):
    """django-axes' rows on our admin site, for committee administrators and superusers only.

    Each administrator sees the failures on accounts they manage and on names that are no
    account (selectors.lockout_usernames_q). The POST data django-axes keeps is never shown.
    """

    def get_queryset(self, request):
        return super().get_queryset(request).filter(selectors.lockout_usernames_q(user=request.user))


@admin.register(AccessAttempt, site=admin_site)
class AccessAttemptAdmin(LockoutAdmin):
    """Failed logins counted towards a lockout; lifting one (deleting it) is written to the account log."""

    list_display = ["attempt_time", "username", "ip_address", "failures_since_start", "locked"]
    date_hierarchy = "attempt_time"
    search_fields = ["username", "ip_address"]
    fields = readonly_fields = (
        "username",
        "ip_address",
        "user_agent",
        "path_info",
        "failures_since_start",
        "attempt_time",
    )
    actions = ["unlock"]

    @admin.display(description=_("locked out"), boolean=True)
    def locked(self, obj: AccessAttempt) -> bool:
        from django.conf import settings

        return obj.failures_since_start >= settings.AXES_FAILURE_LIMIT

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("axes.delete_accessattempt", obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "unlock" does the same, and logs it
        return actions

    @admin.action(description=_("Lift the lockout of the selected logins"), permissions=["delete"])
    def unlock(self, request, queryset) -> None:
        lifted = lockout_release(by=request.user, attempt_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d lockout lifted.", "%(count)d lockouts lifted.", lifted) % {"count": lifted},
            messages.SUCCESS,
        )

    def delete_model(self, request, obj) -> None:
        lockout_release(by=request.user, attempt_ids=[obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        lockout_release(by=request.user, attempt_ids=queryset.values_list("pk", flat=True))


@admin.register(AccessFailureLog, site=admin_site)
class AccessFailureLogAdmin(LockoutAdmin):
    list_display = ["attempt_time", "username", "ip_address", "locked_out"]
    list_filter = ["locked_out"]
    date_hierarchy = "attempt_time"
    search_fields = ["username", "ip_address"]
    fields = readonly_fields = ("attempt_time", "username", "ip_address", "user_agent", "path_info", "locked_out")
