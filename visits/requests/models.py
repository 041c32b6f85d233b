"""Requests (诉求) from the public and their steps, followed until closed (问题台账)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from liaison.params import LONG_TEXT_MAX
from members.models import Contact, Member, Organisation


class RequestSource(models.TextChoices):
    VISIT = "visit", _("Raised in a visit")
    RECEPTION_DAY = "reception_day", _("Reception day")
    SUGGESTION_BOX = "suggestion_box", _("Suggestion box")
    HOTLINE = "hotline", _("Hotline")
    ONLINE = "online", _("Online")


class RequestState(models.TextChoices):
    RECEIVED = "received", _("Received")
    HANDLED_DIRECTLY = "handled_directly", _("Handled directly")
    TRANSFERRED = "transferred", _("Transferred")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    EXPLAINED = "explained", _("Explained")
    FED_BACK = "fed_back", _("Feedback given")
    RETURN_VISITED = "return_visited", _("Return visit made")
    CLOSED = "closed", _("Closed")


class Request(models.Model):
    """A request or complaint from the public, followed until it is closed (问题台账)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="requests"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("raised by"), on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    # By name, not by import: visits (the visit log) builds on this app, not the other way round.
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("visit log"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    source = models.CharField(_("source"), max_length=20, choices=RequestSource.choices)
    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(
        _("details"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    state = models.CharField(_("state"), max_length=20, choices=RequestState.choices, default=RequestState.RECEIVED)
    responsible = models.ForeignKey(
        Member,
        verbose_name=_("responsible person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_responsible",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("supervised since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The hidden token of the form that made it (liaison.forms.IdempotencyKeyField): one object per post.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, editable=False)
    # Raised by every edit (liaison.services.version_claim): an edit opened on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        # Named as it was created when the table was visits_request (the name follows the table).
        indexes = [models.Index(fields=["state", "deadline"], name="visits_requ_state_28d57e_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=RequestState.values), name="request_state_valid"),
            # Assigned work has someone responsible and a deadline.
            models.CheckConstraint(
                condition=~Q(state__in=["assigned", "in_progress"])
                | (Q(responsible__isnull=False) & Q(deadline__isnull=False)),
                name="request_assigned_has_owner_and_deadline",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="request_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.summary


class RequestTransition(models.Model):
    request = models.ForeignKey(
        Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(_("from"), max_length=20, choices=RequestState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=RequestState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(
        _("comment"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )

    class Meta:
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
