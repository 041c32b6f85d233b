from collections.abc import Iterable
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liaison.forms import IdempotencyKeyField, LongTextField, VersionField, WorkDateField

from . import photos
from .models import HelpKind, Situation, Visit, VisitMode
from .services import HelpGiven, VisitData


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input, each checked by the photo rule (visits/photos.py)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": photos.ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not items:
            return super().clean(None, initial) or []
        cleaned, errors = [], []
        for item in items:
            try:
                upload = super().clean(item, initial)
                photos.photo_check(upload)
            except ValidationError as error:
                errors.extend(error.error_list)
            else:
                cleaned.append(upload)
        try:
            photos.photos_check_count(items)
        except ValidationError as error:
            errors.extend(error.error_list)
        if errors:
            raise ValidationError(errors)
        return cleaned


class VisitForm(forms.Form):
    """One screen on a phone: the essentials first, help and situations folded below."""

    happened_on = WorkDateField(label=_("Date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    mode = forms.ChoiceField(label=_("Mode"), choices=VisitMode.choices, widget=forms.RadioSelect)
    discussed = LongTextField(label=_("What was discussed"), widget=forms.Textarea(attrs={"rows": 3}))
    views_and_requests = LongTextField(
        label=_("The contact's views and requests"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    request_summary = forms.CharField(
        label=_("Record as a request to follow up"),
        max_length=200,
        required=False,
        help_text=_("A one-line summary; it goes to the problem ledger for the secretary."),
    )
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=1440, required=False)
    help_money = forms.DecimalField(
        label=_("Financial aid (yuan)"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2, required=False
    )
    help_goods = forms.CharField(label=_("Goods given"), max_length=200, required=False)
    help_goods_value = forms.DecimalField(
        label=_("Value of the goods (yuan)"), min_value=0, max_digits=10, decimal_places=2, required=False
    )
    help_work_study = forms.CharField(label=_("Work-study post arranged"), max_length=200, required=False)
    help_encouragement = forms.BooleanField(label=_("Encouragement"), required=False)
    help_policy = forms.BooleanField(label=_("Policy explained"), required=False)
    follow_up = LongTextField(label=_("Follow-up needed"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    situation = forms.ChoiceField(label=_("Situation to report"), choices=Situation.choices, required=False)
    situation_details = LongTextField(
        label=_("Situation details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = MultipleImageField(label=_("Photos"), required=False)
    # One log per rendering of the form (a new log), or the version the log had when opened (an edit).
    idempotency_key = IdempotencyKeyField()
    version = VersionField()

    def __init__(self, *args, upload_errors: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        # Photos the upload handler refused while reading them (visits.photos.PhotoUploadLimit).
        self.upload_errors = list(upload_errors)
        self.fields["photos"].help_text = photos.help_text()
        if not self.is_bound and "happened_on" not in self.initial:
            self.initial["happened_on"] = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's clean() returns cleaned_data
        for error in self.upload_errors:
            self.add_error("photos" if "photos" in self.fields else None, error)
        if cleaned.get("situation") and not cleaned.get("situation_details", "").strip():
            self.add_error("situation_details", _("Say what happened."))
        if cleaned.get("help_goods_value") is not None and not cleaned.get("help_goods"):
            self.add_error("help_goods", _("Say what goods were given."))
        return cleaned

    def visit_data(self) -> VisitData:
        data = self.cleaned_data
        help_given = []
        if data.get("help_money"):
            help_given.append(HelpGiven(HelpKind.MONEY, amount=data["help_money"]))
        if data.get("help_goods"):
            help_given.append(HelpGiven(HelpKind.GOODS, data["help_goods"], data.get("help_goods_value") or Decimal(0)))
        if data.get("help_work_study"):
            help_given.append(HelpGiven(HelpKind.WORK_STUDY, data["help_work_study"]))
        if data.get("help_encouragement"):
            help_given.append(HelpGiven(HelpKind.ENCOURAGEMENT))
        if data.get("help_policy"):
            help_given.append(HelpGiven(HelpKind.POLICY))
        return VisitData(
            happened_on=data["happened_on"],
            mode=data["mode"],
            discussed=data["discussed"],
            place=data.get("place", ""),
            duration_minutes=data.get("duration_minutes"),
            views_and_requests=data.get("views_and_requests", ""),
            follow_up=data.get("follow_up", ""),
            situation=data.get("situation", ""),
            situation_details=data.get("situation_details", ""),
            help=help_given,
            request_summary=data.get("request_summary", ""),
        )

    @classmethod
    def initial_from(cls, visit: Visit) -> dict:
        initial: dict = {"version": visit.version}
        initial |= {
            name: getattr(visit, name)
            for name in (
                "happened_on",
                "mode",
                "discussed",
                "views_and_requests",
                "place",
                "duration_minutes",
                "follow_up",
                "situation",
                "situation_details",
            )
        }
        for item in visit.help.all():
            if item.kind == HelpKind.MONEY:
                initial["help_money"] = item.amount
            elif item.kind == HelpKind.GOODS:
                initial["help_goods"], initial["help_goods_value"] = item.description, item.amount
            elif item.kind == HelpKind.WORK_STUDY:
                initial["help_work_study"] = item.description
            elif item.kind == HelpKind.ENCOURAGEMENT:
                initial["help_encouragement"] = True
            elif item.kind == HelpKind.POLICY:
                initial["help_policy"] = True
        return initial
