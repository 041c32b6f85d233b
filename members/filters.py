import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from liaison.params import SEARCH_MAX_LENGTH

from .models import Contact, ContactCategory, ContactReason, Member, MemberCategory, Organisation
from .scoping import get_scope


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=SEARCH_MAX_LENGTH)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=ContactCategory.choices)
    reason = django_filters.ModelChoiceFilter(
        label=_("Reason"), field_name="reasons", queryset=ContactReason.objects.all()
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none(), method="filter_subtree"
    )

    class Meta:
        model = Contact
        fields = ["q", "category", "reason", "organisation"]

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import organisation_list

        if request_user is not None:
            if get_scope(request_user).has_staff_role:
                organisation_filter = self.filters["organisation"]
                assert isinstance(organisation_filter, django_filters.ModelChoiceFilter)
                organisation_filter.queryset = organisation_list(user=request_user).order_by("path")
            else:  # a member's contacts are their own: no organisation to choose
                del self.filters["organisation"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Names and units only: searching on phone or ID number would leak them through masks.
        return queryset.filter(Q(name__icontains=value) | Q(unit__icontains=value))

    def filter_subtree(self, queryset: QuerySet, name: str, value: Organisation) -> QuerySet:
        return queryset.filter(organisation__path__startswith=value.path)


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), field_name="name", lookup_expr="icontains", max_length=SEARCH_MAX_LENGTH
    )
    category = django_filters.ChoiceFilter(label=_("Category"), choices=MemberCategory.choices)

    class Meta:
        model = Member
        fields = ["q", "category"]
