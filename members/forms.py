from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from liaison.forms import IdempotencyKeyField

from .models import ImportJob
from .roster import CSV_ADVICE, XLS_ADVICE, RosterFileError, check_workbook


class RosterUploadForm(forms.Form):
    """The upload, checked cheaply before any job exists: its name, its size and its zip directory."""

    kind = forms.ChoiceField(label=_("What the file lists"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("Roster file (.xlsx)"),
        help_text=_("Download a template, fill it in, and upload it here."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    idempotency_key = IdempotencyKeyField()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if name.endswith(".xls"):
            raise forms.ValidationError(XLS_ADVICE)
        if name.endswith((".csv", ".txt")):
            raise forms.ValidationError(CSV_ADVICE)
        if not name.endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel workbook ending in .xlsx."))
        if upload.size > settings.ROSTER_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": settings.ROSTER_IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        content = upload.read()
        try:
            check_workbook(content).close()
        except RosterFileError as error:
            raise forms.ValidationError(str(error)) from None
        self.cleaned_data["content"] = content
        return upload
