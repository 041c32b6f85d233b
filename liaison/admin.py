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

import re
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IS_POPUP_VAR, BaseModelAdmin
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ORDER_VAR
from django.contrib.auth import get_permission_codename
from django.core.exceptions import BadRequest, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import F, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import BaseExpression
from django.http import Http404, HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdminMixin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from liaison.params import int_param

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
        # The ground floor names no app at import time.
        from liaison.security.selectors import second_factor_pending
        from members.scoping import get_scope

        user = request.user
        # A session that owes its second factor (liaison.security) does not get in, whatever the role.
        return (
            user.is_active
            and (user.is_staff or get_scope(user).has_staff_role)
            and second_factor_pending(request) is None
        )

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


if TYPE_CHECKING:
    _BaseAdmin = BaseModelAdmin
    _ModelAdminBase = admin.ModelAdmin
else:
    _BaseAdmin = object
    _ModelAdminBase = object


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


def _unprobeable(model: type[Model], path: str) -> bool:
    from members.masking import path_is_unprobeable  # the one declaration of personal data

    return path_is_unprobeable(model, path)


class UnprobeableMixin(_ModelAdminBase):
    """Query strings filter, search and sort only by what the list offers, never by personal data.

    Django's admin accepts any lookup on a model's own fields (`?phone__startswith=130`), which
    rebuilds a masked value in a few requests (issue 11, finding 1). Here `lookup_allowed` is
    an allowlist: a lookup must start with a name the list offers — a `list_filter` field path
    (then only the filter's own shapes: `term__id__exact`, `kind__exact`, `joined_on__gte`; not
    a walk into the related model's other fields), a `SimpleListFilter`'s parameter, the
    `date_hierarchy`'s year/month/day, or a name in `allowed_lookups` — and it may touch no
    unprobeable field (members.masking.UNPROBEABLE_FIELDS) at any depth, even if one of those
    were declared. A refused lookup raises `DisallowedModelAdminLookup`, which Django answers
    with a 400. Search fields and sortable columns that reach an unprobeable field are dropped,
    and `?o=` naming such a column is refused the same way.
    """

    allowed_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if _unprobeable(self.model, lookup):
            return False
        if self._limits_a_raw_id_popup(lookup, value):
            return True
        exact, prefixes = self._offered_lookups(request)
        return lookup in exact or any(self._filter_offers(prefix, lookup) for prefix in prefixes)

    def _limits_a_raw_id_popup(self, lookup: str, value: str) -> bool:
        # Django's own exception: the popup of a raw-id widget filters by the relation's
        # `limit_choices_to`, which the code declares, not the query string.
        from django.contrib.admin import widgets

        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    def _offered_lookups(self, request) -> tuple[set[str], set[str]]:
        """Names a lookup may equal, and field paths a lookup may start with."""
        exact: set[str] = set()
        prefixes: set[str] = set(self.allowed_lookups)
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type):
                if issubclass(item, admin.SimpleListFilter):
                    exact.add(str(item.parameter_name))
                continue
            field = item[0] if isinstance(item, (list, tuple)) else item
            prefixes.add(field if isinstance(field, str) else str(getattr(field, "name", "")))
        if self.date_hierarchy:
            exact.update(f"{self.date_hierarchy}{LOOKUP_SEP}{part}" for part in ("year", "month", "day"))
        return exact, prefixes

    def _filter_offers(self, field_path: str, lookup: str) -> bool:
        if lookup == field_path:
            return True
        if not lookup.startswith(field_path + LOOKUP_SEP):
            return False
        rest = lookup[len(field_path) + len(LOOKUP_SEP) :].split(LOOKUP_SEP)
        try:
            field = get_fields_from_path(self.model, field_path)[-1]
        except (FieldDoesNotExist, ValueError):
            return False
        related = field.related_model if field.is_relation else None
        if related is None or isinstance(related, str):
            return True  # a plain field: the rest are lookups and transforms (kind__exact, joined_on__gte)
        # A relation's filter chooses by the related primary key (term__id__exact, term__isnull);
        # naming any other field of the related model walks past what the filter offers.
        keys = {"pk", related._meta.pk.name, *(name for name in getattr(field, "to_fields", ()) if name)}
        if rest[0] in keys:
            rest = rest[1:]
        return not any(_is_field(related, part) for part in rest)

    def get_search_fields(self, request):
        return [name for name in super().get_search_fields(request) if not _unprobeable(self.model, name.lstrip("^=@"))]

    def get_sortable_by(self, request):
        return [name for name in super().get_sortable_by(request) if not self._sorts_by_unprobeable(name)]

    def _sorts_by_unprobeable(self, name: Any) -> bool:
        order = _ordering_of(self, name)
        if isinstance(order, str):
            return _unprobeable(self.model, order)
        if isinstance(order, BaseExpression):
            return any(isinstance(node, F) and _unprobeable(self.model, node.name) for node in order.flatten())
        return False

    def changelist_view(self, request, extra_context=None):
        self._refuse_unsortable_ordering(request)
        return super().changelist_view(request, extra_context)

    def _refuse_unsortable_ordering(self, request) -> None:
        """`?o=<column>` sorts by a column of the list; one that reaches personal data is refused (400)."""
        if not request.GET.get(ORDER_VAR):
            return
        list_display = list(self.get_list_display(request))
        if self.get_actions(request) and IS_POPUP_VAR not in request.GET:
            list_display = ["action_checkbox", *list_display]  # as get_changelist_instance numbers them
        for part in request.GET[ORDER_VAR].split("."):
            index = int_param(part.rpartition("-")[2])
            if index is not None and index < len(list_display) and self._sorts_by_unprobeable(list_display[index]):
                raise DisallowedModelAdminLookup(f"Ordering by column {index} not allowed")


def _is_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return name == "pk"
    return True


def _ordering_of(model_admin: admin.ModelAdmin, name: Any) -> Any:
    """What a list column sorts by, as Django's ChangeList.get_ordering_field reads it."""
    if callable(name):
        attr = name
    else:
        try:
            return model_admin.model._meta.get_field(name).name
        except FieldDoesNotExist:
            attr = getattr(model_admin, name, None) or getattr(model_admin.model, name, None)
            if attr is None:
                return name if LOOKUP_SEP in name else None
    if isinstance(attr, property):
        attr = attr.fget
    return getattr(attr, "admin_order_field", None)


class ScopedAdmin(ObjectPermissionsModelAdminMixin, UnprobeableMixin, ScopedWritesMixin, SimpleHistoryAdmin):
    """Object permissions from django-rules; history from django-simple-history where the model keeps it.

    A model without `HistoricalRecords` gets Django's own history page (the admin's log
    entries, which name the fields that changed, never their values) instead of
    django-simple-history's, which needs the historical table.
    """

    show_full_result_count = False
    list_per_page = 50

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self.keeps_history = hasattr(model._meta, "simple_history_manager_attribute")
        if not self.keeps_history:
            self.object_history_template = None  # type: ignore[misc]  # Django's admin/object_history.html

    def get_urls(self):
        if self.keeps_history:
            return super().get_urls()
        return super(SimpleHistoryAdmin, self).get_urls()

    def history_subject(self, request, object_id) -> tuple[Model, bool]:
        """The object whose history is asked for, and whether it still exists; else a 404.

        Out of scope and missing look the same (django-simple-history answers 403 for an
        object it finds outside the user's queryset). A deleted object's history stays
        readable to whoever may read its last version, as django-simple-history allows.
        """
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            return obj, True
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404 from None
        if not self.keeps_history or self.model._default_manager.filter(pk=pk).exists():
            raise Http404  # missing, or there and out of scope
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        last = history.filter(pk=pk).order_by("-history_date", "-history_id").first()
        if last is None or not self.has_view_or_change_permission(request, last.instance):
            raise Http404
        return last.instance, False

    def history_view(self, request, object_id, extra_context=None):
        self.history_subject(request, object_id)
        try:
            if self.keeps_history:
                return super().history_view(request, object_id, extra_context)
            return super(SimpleHistoryAdmin, self).history_view(request, object_id, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        subject, _exists = self.history_subject(request, object_id)
        if not str(version_id).isdigit():
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, subject):
            # Saving this form reverts the object to the version: a change, whoever may only read it.
            raise PermissionDenied
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of scope and missing look the same: a 404, not a hint that the id exists.
        raise Http404

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self.scoped_form(request, super().get_form(request, obj, change, **kwargs))


if TYPE_CHECKING:
    _SensitiveAdminBase = ScopedAdmin
else:
    _SensitiveAdminBase = object

# Where the history pages note, for the rest of the request, whether the reader sees
# personal data in full: decided once, on the object as it is now (as the change page does).
_HISTORY_IN_FULL = "_liaison_history_in_full"


class SensitiveFieldsMixin(_SensitiveAdminBase):
    """Personal data appears in full only to those entitled; opening it for editing is logged.

    The history pages follow the same rule: the list of versions and each version's page
    show masks unless the reader is entitled to the object as it is now, and an entitled
    reader opening them is logged (SensitiveAccess, action "history") like a reveal.
    """

    sensitive_fields: tuple[str, ...] = ()

    def is_entitled(self, request, obj) -> bool:
        raise NotImplementedError

    def log_access(self, request, obj, action: str) -> None:
        raise NotImplementedError

    def _masks(self, request, obj) -> bool:
        decided = getattr(request, _HISTORY_IN_FULL, None)
        if decided is not None:
            return not decided
        return obj is not None and not self.is_entitled(request, obj)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._masks(request, obj):
            fields = [f"masked_{name}" if name in self.sensitive_fields else name for name in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._masks(request, obj):
            readonly += [f"masked_{name}" for name in self.sensitive_fields]
        return readonly

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self._masks(request, obj):
            exclude += self.sensitive_fields
        return exclude

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from members.models import SensitiveAccess

        obj = self.get_object(request, object_id)
        if request.method == "GET" and obj is not None and self.is_entitled(request, obj):
            self.log_access(request, obj, SensitiveAccess.Action.ADMIN_EDIT)
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide_history_masks(self, request, object_id) -> None:
        from members.models import SensitiveAccess

        subject, exists = self.history_subject(request, object_id)
        # A deleted person's history stays masked: the access log could not name them.
        in_full = exists and self.is_entitled(request, subject)
        setattr(request, _HISTORY_IN_FULL, in_full)
        if in_full and request.method == "GET":
            self.log_access(request, subject, SensitiveAccess.Action.HISTORY)

    def history_view(self, request, object_id, extra_context=None):
        self._decide_history_masks(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._decide_history_masks(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        if not getattr(request, _HISTORY_IN_FULL, False):
            return MaskedHistoryHelper(self.model, historical_record, masked=self.sensitive_fields)
        return super().get_historical_record_context_helper(request, historical_record)


class MaskedHistoryHelper(HistoricalRecordContextHelper):
    """A history list's changes with the old and new values of personal data masked."""

    def __init__(self, model, historical_record, *, masked: tuple[str, ...]) -> None:
        super().__init__(model, historical_record)
        self.masked = masked

    def prepare_delta_change_value(self, change, value):
        from members.masking import mask

        if change.field in self.masked:
            return mask(change.field, value)
        return super().prepare_delta_change_value(change, value)


class ReadOnlyAdmin(ObjectPermissionsModelAdminMixin, UnprobeableMixin, admin.ModelAdmin):
    show_full_result_count = False

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def history_view(self, request, object_id, extra_context=None):
        try:
            return super().history_view(request, object_id, extra_context)
        except PermissionDenied:
            raise Http404 from None  # out of scope and missing look the same

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
