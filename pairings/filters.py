import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from members.models import ContactCategory, Member, MemberCategory, Organisation

from .models import QuotaStatus


class BoardFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.none(), method="filter_subtree"
    )
    category = django_filters.ChoiceFilter(label=_("Member category"), choices=MemberCategory.choices)
    short_in = django_filters.ChoiceFilter(
        label=_("Short of quota in"),
        choices=[("any", _("Any category")), *ContactCategory.choices],
        method="filter_short",
    )

    class Meta:
        model = Member
        fields = ["organisation", "category", "short_in"]

    def __init__(self, *args, term=None, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term = term
        if organisations is not None:
            organisation_filter = self.filters["organisation"]
            assert isinstance(organisation_filter, django_filters.ModelChoiceFilter)
            organisation_filter.queryset = organisations

    def filter_subtree(self, queryset: QuerySet, name: str, value: Organisation) -> QuerySet:
        return queryset.filter(organisation__path__startswith=value.path)

    def filter_short(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        short = QuotaStatus.objects.filter(term=self.term, member=OuterRef("pk"), shortfall__gt=0)
        if value != "any":
            short = short.filter(contact_category=value)
        return queryset.filter(Exists(short))
