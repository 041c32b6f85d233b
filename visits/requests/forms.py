from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liaison.forms import IdempotencyKeyField, LongTextField, VersionField, WorkDateField
from members.models import Contact, Member, Organisation

from .models import RequestSource, RequestState


class RequestCreateForm(forms.Form):
    """Record a request. Fields a member does not choose (organisation, source) are dropped for them."""

    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Raised by"), queryset=Contact.objects.none(), required=False, empty_label=_("Nobody in particular")
    )
    source = forms.ChoiceField(label=_("Source"), choices=RequestSource.choices, initial=RequestSource.VISIT)
    summary = forms.CharField(label=pgettext_lazy("request", "Summary"), max_length=200)
    details = LongTextField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    idempotency_key = IdempotencyKeyField()

    def __init__(
        self,
        *args,
        organisations: QuerySet[Organisation] | None,
        contacts: QuerySet[Contact],
        contact_required: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organisation"]
            del self.fields["source"]
        else:
            organisation_field = self.fields["organisation"]
            assert isinstance(organisation_field, forms.ModelChoiceField)
            organisation_field.queryset = organisations
        contact_field = self.fields["contact"]
        assert isinstance(contact_field, forms.ModelChoiceField)
        contact_field.queryset = contacts
        self.fields["contact"].required = contact_required


class RequestTransitionForm(forms.Form):
    # Any state validates here; the service refuses a move the workflow does not allow, with a clear message.
    to_state = forms.ChoiceField(label=_("Next step"), choices=RequestState.choices)
    comment = LongTextField(
        label=pgettext_lazy("step of handling a request", "Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible person"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("When assigning."),
    )
    deadline = WorkDateField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("When assigning."),
    )
    version = VersionField()

    def __init__(self, *args, states: list[str], responsible_choices: QuerySet[Member] | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].widget.choices = [(state, RequestState(state).label) for state in states]
        if responsible_choices is None or RequestState.ASSIGNED not in states:
            del self.fields["responsible"]
            del self.fields["deadline"]
        else:
            responsible_field = self.fields["responsible"]
            assert isinstance(responsible_field, forms.ModelChoiceField)
            responsible_field.queryset = responsible_choices

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        # Who and by when matter only for an assignment; the service checks they are there.
        if cleaned.get("to_state") != RequestState.ASSIGNED:
            cleaned["responsible"] = None
            cleaned["deadline"] = None
        return cleaned
