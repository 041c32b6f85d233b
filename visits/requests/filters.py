"""The problem ledger's filters (问题台账)."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liaison.params import SEARCH_MAX_LENGTH
from members.models import Member, Organisation
from members.scoping import get_scope

from .models import Request, RequestSource, RequestState
from .services import OPEN_STATES


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), field_name="summary", lookup_expr="icontains", max_length=SEARCH_MAX_LENGTH
    )
    state = django_filters.ChoiceFilter(label=_("State"), choices=RequestState.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=RequestSource.choices)
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none(), method="filter_subtree"
    )
    responsible = django_filters.ModelChoiceFilter(label=_("Responsible person"), queryset=Member.objects.none())
    overdue = django_filters.BooleanFilter(label=_("Overdue only"), widget=forms.CheckboxInput, method="filter_overdue")
    supervised = django_filters.BooleanFilter(
        label=_("Supervised only"), widget=forms.CheckboxInput, method="filter_supervised"
    )

    class Meta:
        model = Request
        fields = ["q", "state", "source", "organisation", "responsible", "overdue", "supervised"]

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from members.selectors import member_list, organisation_list

        if request_user is not None and get_scope(request_user).has_staff_role:
            organisation_filter = self.filters["organisation"]
            assert isinstance(organisation_filter, django_filters.ModelChoiceFilter)
            organisation_filter.queryset = organisation_list(user=request_user).order_by("path")
            responsible_filter = self.filters["responsible"]
            assert isinstance(responsible_filter, django_filters.ModelChoiceFilter)
            responsible_filter.queryset = member_list(user=request_user).prefetch_related(None).order_by("name", "id")
        else:  # a member's ledger holds only their own requests: nothing to narrow by
            del self.filters["organisation"]
            del self.filters["responsible"]

    def filter_subtree(self, queryset: QuerySet, name: str, value: Organisation) -> QuerySet:
        return queryset.filter(organisation__path__startswith=value.path)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(deadline__lt=timezone.localdate(), state__in=OPEN_STATES)

    def filter_supervised(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(supervised_at__isnull=False) if value else queryset
