from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from members.models import Organisation

from . import services
from .ledgers import LEDGER_LABELS
from .models import EvaluationPolicy, Grade, ItemKind, SatisfactionRating


class EvaluationPolicyForm(forms.ModelForm):
    """The score sheet: points per item (adding up to 100) and the thresholds."""

    class Meta:
        model = EvaluationPolicy
        fields = ["excellent_from", "competent_from", "basically_competent_from", "satisfaction_threshold"]

    def __init__(self, *args, points: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in ItemKind:
            self.fields[f"points_{kind.value}"] = forms.IntegerField(
                label=kind.label, min_value=0, max_value=100, initial=points.get(kind.value, 0)
            )
        # Items first, then the thresholds, as on the paper sheet.
        self.order_fields([f"points_{kind.value}" for kind in ItemKind])
        for name in ("excellent_from", "competent_from", "basically_competent_from", "satisfaction_threshold"):
            self.fields[name].widget.attrs["max"] = 100
            self.fields[name].validators.append(MaxValueValidator(100))

    @property
    def points(self) -> dict[str, int]:
        return {kind.value: self.cleaned_data[f"points_{kind.value}"] for kind in ItemKind}

    @property
    def thresholds(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.check_points(self.points)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class GradeAdjustForm(forms.Form):
    to_grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    reason = forms.CharField(
        label=_("Reason for the adjustment"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with your name and kept in the evaluation's history."),
    )


class SurveyAnswerForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How satisfied are you with this party member's service?"),
        choices=SatisfactionRating.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to add (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ExportForm(forms.Form):
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("Organisation"), queryset=None, empty_label=None
    )
    kind = forms.ChoiceField(label=_("Ledger"), choices=[(kind.value, label) for kind, label in LEDGER_LABELS.items()])
    full_personal_data = forms.BooleanField(
        label=_("Full phone numbers"),
        required=False,
        help_text=_(
            "Only for contacts of organisations you manage; masked otherwise. Every contact exported in full is logged."
        ),
    )

    def __init__(self, *args, organisations, may_ask_full: bool, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        assert isinstance(organisation_field, forms.ModelChoiceField)
        organisation_field.queryset = organisations
        if not may_ask_full:
            del self.fields["full_personal_data"]
