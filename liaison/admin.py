"""The admin site every app registers on, and the admin classes they share.

Rights come from roles (members/scoping.py, through the django-rules predicates), not from
is_staff or stored permissions: a branch secretary can sign in as soon as they are named.
This is the ground floor: no app is imported at module level, so every app may build on it.

Every write through the admin is scoped twice, here, for every app:

- **choices**: every foreign-key and many-to-many field of every form (inlines and the
  autocomplete lookups included) offers, and accepts, only the rows its model's declared
  *choice scope* returns for the user: the set the user may write against. Each app declares
  its models beside their admin, `choice_scope_register("members.Member", member_manageable_list)`;
  an admin narrows one field with `choice_scopes = {"field": selector}`. A field to a model
  nobody declared offers nothing, never everything (and tests/test_admin_writes.py fails).
  Whatever the widget (select, autocomplete, raw id), the field accepts only those rows;
- **the row itself**: once the form is bound, the object as it would be saved must pass the
  model's own add or change rule asked *with that object* (its organisation, its member's, its
  term's...), or the form answers with an error and nothing is written.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdminMixin
from simple_history.admin import SimpleHistoryAdmin

# A selector giving the rows a user may choose when writing: called as `scope(user=request.user)`.
ChoiceScope = Callable[..., QuerySet[Any]]

_choice_scopes: dict[str, ChoiceScope] = {}

WRITE_REFUSED = _(
    "You cannot save this: it would belong to an organisation, term or policy outside what you may change."
)


def choice_scope_register(model_label: str, scope: ChoiceScope) -> None:
    """Declare the rows of `model_label` ("app_label.Model") a user may pick in an admin form that writes."""
    _choice_scopes[model_label] = scope


def shared_vocabulary(model: type[Model]) -> ChoiceScope:
    """The choice scope of a fixed list everybody picks from (leadership roles, reasons): not anyone's data."""

    def every(*, user) -> QuerySet[Any]:
        return model._default_manager.all()

    return every


class ScopedAutocompleteJsonView(AutocompleteJsonView):
    """The autocomplete lookups offer what the form field they fill accepts, not all the target admin lists.

    The target's admin reads the user's whole read scope (an inspector's tree); the field that
    asks may only take what the user may write against. A field no scoped admin owns gets nothing.
    """

    source_field: Any  # set by AutocompleteJsonView.get(), from the query string

    def get_queryset(self):
        queryset = super().get_queryset()
        writer = self.admin_site.writer_of(self.source_field)  # type: ignore[attr-defined]
        if writer is None:
            return queryset.none()
        scoped, _declared = writer.choice_queryset(self.request, self.source_field)
        return queryset.filter(pk__in=scoped.values("pk"))


class LiaisonAdminSite(admin.AdminSite):
    site_header = _("Liaison administration")
    site_title = _("Liaison")
    index_title = _("Party members liaising with and serving the public")

    def has_permission(self, request: HttpRequest) -> bool:
        from members.scoping import get_scope  # the ground floor names no app at import time

        user = request.user
        return user.is_active and (user.is_staff or get_scope(user).has_staff_role)

    def autocomplete_view(self, request):
        return ScopedAutocompleteJsonView.as_view(admin_site=self)(request)

    def writer_of(self, db_field) -> "ScopedWritesMixin | None":
        """The scoped admin or inline whose forms hold `db_field`, to ask which choices it offers."""
        for model_admin in self._registry.values():
            if model_admin.model is db_field.model and isinstance(model_admin, ScopedWritesMixin):
                return model_admin
            for inline_class in model_admin.inlines:
                inline = inline_class(model_admin.model, self)
                if inline.model is db_field.model and isinstance(inline, ScopedWritesMixin):
                    return inline
        return None

    def password_change(self, request, extra_context=None):
        """One's own password change; a change is written to the account log."""
        from django.db import transaction

        from members.services import account_password_logged  # the ground floor names no app at import time

        password_before = request.user.password
        with transaction.atomic():
            response = super().password_change(request, extra_context)
            if request.method == "POST" and request.user.is_authenticated:
                account_password_logged(by=request.user, account=request.user, password_before=password_before)
        return response


admin_site = LiaisonAdminSite(name="admin")


if TYPE_CHECKING:
    _BaseAdmin = BaseModelAdmin
else:
    _BaseAdmin = object


class ScopedWritesMixin(_BaseAdmin):
    """Choices from the declared scopes, and the bound object checked against the model's rule (module docstring).

    Shared by ScopedAdmin and ScopedInline, so a model's page and its rows inside another's page agree.
    """

    # Field name → selector, for a field whose choices are narrower (or, said out loud, wider)
    # than its model's declared scope.
    choice_scopes: dict[str, ChoiceScope] = {}

    def choice_queryset(self, request: HttpRequest, db_field) -> tuple[QuerySet[Any], str | None]:
        """The rows `db_field` offers this user, and where that was declared (None: nowhere, so nothing)."""
        scope = self.choice_scopes.get(db_field.name)
        declared = f"{type(self).__name__}.choice_scopes[{db_field.name!r}]"
        if scope is None:
            declared = db_field.related_model._meta.label
            scope = _choice_scopes.get(declared)
        if scope is None:
            return db_field.related_model._default_manager.none(), None
        return scope(user=request.user), declared

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs["queryset"], declared = self.choice_queryset(request, db_field)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None:
            formfield.choice_scope = declared  # type: ignore[attr-defined]  # read by tests/test_admin_writes.py
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"], declared = self.choice_queryset(request, db_field)
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None:
            formfield.choice_scope = declared  # type: ignore[attr-defined]
        return formfield

    def write_allowed(self, request: HttpRequest, form: forms.ModelForm) -> bool:
        """Whether the object, as the bound form would save it, passes the model's add or change rule."""
        opts = self.opts
        action = "add" if form.instance._state.adding else "change"
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}", form.instance)

    def scoped_form(self, request: HttpRequest, form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
        """`form_class`, refusing (with a form error) to save a row the user may not write."""
        model_admin = self

        def _post_clean(form: forms.ModelForm) -> None:
            form_class._post_clean(form)  # type: ignore[attr-defined]  # builds form.instance from the choices
            if not form.errors and not model_admin.write_allowed(request, form):
                form.add_error(None, WRITE_REFUSED)

        return type(form_class.__name__, (form_class,), {"_post_clean": _post_clean})


class ScopedInline(ScopedWritesMixin, admin.TabularInline):
    """An inline whose rows are scoped as their own admin would scope them."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self.scoped_form(request, formset.form)
        return formset


class ScopedAdmin(ObjectPermissionsModelAdminMixin, ScopedWritesMixin, SimpleHistoryAdmin):
    """Object permissions from django-rules; history from django-simple-history where the model keeps it.

    A model without `HistoricalRecords` gets Django's own history page (the admin's log
    entries) instead of django-simple-history's, which needs the historical table.
    """

    show_full_result_count = False
    list_per_page = 50

    def __init__(self, model, admin_site):
        # (mypy reads the mixin's BaseModelAdmin first, whose stub takes no arguments; ModelAdmin's does.)
        super().__init__(model, admin_site)  # type: ignore[call-arg]
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

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Reverting to an old version is a change like any other: of the row as it is now, by
        # someone who may change it (django-simple-history asks only whether the old version
        # may be viewed). The form then scopes the values it would restore.
        current = self.get_object(request, unquote(object_id))
        if current is None:
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, current):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of scope and missing look the same: a 404, not a hint that the id exists.
        raise Http404

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self.scoped_form(request, super().get_form(request, obj, change, **kwargs))


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
