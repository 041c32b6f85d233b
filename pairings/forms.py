from django import forms
from django.utils.translation import gettext_lazy as _

from liaison.forms import WorkDateField
from members.models import ContactCategory, ContactKind

from .models import TermKind


class TermOpenForm(forms.Form):
    name = forms.CharField(
        label=_("Term name"), max_length=50, help_text=_("For example: 2026–2027 academic year, second semester.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=TermKind.choices)
    starts_on = WorkDateField(label=_("Starts on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    ends_on = WorkDateField(label=_("Ends on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    carry_over = forms.BooleanField(
        label=_("Carry active pairings over"),
        required=False,
        initial=True,
        help_text=_("Pairs stay together; the old term's pairings end, with their history kept."),
    )

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        if cleaned.get("starts_on") and cleaned.get("ends_on") and cleaned["ends_on"] <= cleaned["starts_on"]:
            self.add_error("ends_on", _("The term must end after it starts."))
        return cleaned


class PairingEndForm(forms.Form):
    ended_on = WorkDateField(label=_("Ended on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    reason = forms.CharField(label=_("Why"), max_length=200)


class QuotaOverrideForm(forms.Form):
    contact_category = forms.ChoiceField(
        label=_("Contact category"), choices=[("", _("Any category")), *ContactCategory.choices], required=False
    )
    unit = forms.ChoiceField(label=_("Counted in"), choices=ContactKind.choices, initial=ContactKind.PERSON)
    required = forms.IntegerField(label=_("Required"), min_value=0, max_value=100)
    reason = forms.CharField(label=_("Why"), max_length=200)
