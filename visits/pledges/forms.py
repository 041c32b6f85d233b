from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liaison.forms import IdempotencyKeyField, LongTextField, VersionField, WorkDateField
from members.models import Member, Organisation

from .models import PledgeRating, PledgeState

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _this_year() -> int:
    return timezone.localdate().year


class PledgeCreateForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, initial=_this_year)
    title = forms.CharField(
        label=_("Pledge"), max_length=200, help_text=_("One concrete thing you will do for the public this year.")
    )
    description = LongTextField(label=_("What will be done"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    idempotency_key = IdempotencyKeyField()


class PledgeStepForm(forms.Form):
    """A step of a pledge, sent with the version the pledge had when its page was opened."""

    version = VersionField()


class PledgeMakePublicForm(PledgeStepForm):
    made_public_on = WorkDateField(label=_("Made public on"), widget=DATE_WIDGET, initial=timezone.localdate)


class PledgeProgressForm(forms.Form):
    happened_on = WorkDateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    note = LongTextField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))


class PledgeReportForm(PledgeStepForm):
    report = LongTextField(label=_("How the pledge was kept"), widget=forms.Textarea(attrs={"rows": 4}))


class PledgeEvaluateForm(PledgeStepForm):
    rating = forms.ChoiceField(label=_("Rating"), choices=PledgeRating.choices)
    evaluation = LongTextField(label=_("Evaluation"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class PledgeReviewFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    state = forms.ChoiceField(label=_("State"), choices=[("", _("Any state")), *PledgeState.choices], required=False)


class ServicePostForm(forms.Form):
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label=_("Organisation"), queryset=None)
    title = forms.CharField(
        label=_("Post"), max_length=100, help_text=_("For example: elder care, policy explanation.")
    )
    duties = LongTextField(label=_("Duties"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    places = forms.IntegerField(label=_("Places"), min_value=1, max_value=1000, initial=1)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        assert isinstance(organisation_field, forms.ModelChoiceField)
        organisation_field.queryset = organisations


class CommunityRegistrationForm(forms.Form):
    """A member reporting for themselves leaves out `member`; a secretary picks one."""

    member: forms.ModelChoiceField[Member] = forms.ModelChoiceField(label=_("Party member"), queryset=None)
    community: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label=_("Community"), queryset=None)
    registered_on = WorkDateField(label=_("Registered on"), widget=DATE_WIDGET, initial=timezone.localdate)

    def __init__(self, *args, members=None, communities, **kwargs):
        super().__init__(*args, **kwargs)
        community_field = self.fields["community"]
        assert isinstance(community_field, forms.ModelChoiceField)
        community_field.queryset = communities
        if members is None:
            del self.fields["member"]
        else:
            member_field = self.fields["member"]
            assert isinstance(member_field, forms.ModelChoiceField)
            member_field.queryset = members
