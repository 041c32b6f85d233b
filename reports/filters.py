import django_filters
from django.utils.translation import gettext_lazy as _

from liaison.params import SEARCH_MAX_LENGTH

from .models import Evaluation, Grade, effective_grade


class EvaluationFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=None, method="within", empty_label=_("All")
    )
    grade = django_filters.ChoiceFilter(
        label=_("Grade"), choices=Grade.choices, method="by_grade", empty_label=_("All")
    )
    accountability = django_filters.ChoiceFilter(
        label=_("Accountability"),
        choices=[("yes", _("Flagged")), ("no", _("Not flagged"))],
        method="by_accountability",
        empty_label=_("All"),
    )
    name = django_filters.CharFilter(
        label=_("Name"), field_name="member__name", lookup_expr="icontains", max_length=SEARCH_MAX_LENGTH
    )

    class Meta:
        model = Evaluation
        fields = ["organisation", "grade", "accountability", "name"]

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_filter = self.filters["organisation"]
        assert isinstance(organisation_filter, django_filters.ModelChoiceFilter)
        organisation_filter.queryset = organisations

    def within(self, queryset, name, value):
        return queryset.filter(organisation__path__startswith=value.path)

    def by_accountability(self, queryset, name, value):
        return queryset.filter(accountability=value == "yes")

    def by_grade(self, queryset, name, value):
        return queryset.alias(final_grade=effective_grade()).filter(final_grade=value)
