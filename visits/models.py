"""Field work: visit and talk logs (requests, pledges and notifications are apps of their own under visits/)."""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from liaison.params import LONG_TEXT_MAX
from pairings.models import Pairing

# Visit and talk logs ---------------------------------------------------------------


class VisitMode(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    TALK = "talk", _("Heart-to-heart talk")
    PHONE = "phone", _("Phone call")
    FORUM = "forum", _("Group forum")
    ONLINE = "online", _("Online")


class Situation(models.TextChoices):
    """The five situations (五情) reported from the field."""

    NONE = "", _("Nothing to report")
    SENTIMENT = "sentiment", _("Public sentiment")
    OPINION = "opinion", _("Public opinion")
    SECURITY = "security", _("Security incident")
    DISASTER = "disaster", _("Disaster")
    OTHER = "other", _("Other")


# Situations the branch secretary must hear about at once.
URGENT_SITUATIONS = {Situation.SECURITY, Situation.DISASTER}


class Visit(models.Model):
    """One entry of the 《党员联系群众工作记录表》."""

    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="visits")
    happened_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=20, choices=VisitMode.choices)
    place = models.CharField(_("place"), max_length=100, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    discussed = models.TextField(
        _("what was discussed"), max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    views_and_requests = models.TextField(
        _("the contact's views and requests"),
        blank=True,
        max_length=LONG_TEXT_MAX,
        validators=[MaxLengthValidator(LONG_TEXT_MAX)],
    )
    follow_up = models.TextField(
        _("follow-up needed"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    situation = models.CharField(_("situation to report"), max_length=20, choices=Situation.choices, blank=True)
    situation_details = models.TextField(
        _("situation details"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The hidden token of the form that made it (liaison.forms.IdempotencyKeyField): one object per post.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, editable=False)
    # Raised by every edit (liaison.services.version_claim): an edit opened on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit log")
        verbose_name_plural = _("visit logs")
        ordering = ["-happened_on", "-id"]
        indexes = [models.Index(fields=["pairing", "happened_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=VisitMode.values), name="visit_mode_valid"),
            models.CheckConstraint(
                condition=Q(situation="") | ~Q(situation_details=""), name="visit_situation_has_details"
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="visit_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.happened_on} · {self.get_mode_display()}"


class HelpKind(models.TextChoices):
    MONEY = "money", _("Financial aid")
    GOODS = "goods", _("Goods")
    WORK_STUDY = "work_study", _("Work-study post")
    ENCOURAGEMENT = "encouragement", _("Encouragement")
    POLICY = "policy", _("Policy explained")


class VisitHelp(models.Model):
    visit = models.ForeignKey(Visit, verbose_name=_("visit log"), on_delete=models.CASCADE, related_name="help")
    kind = models.CharField(_("help given"), max_length=20, choices=HelpKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # Help is money and goods: every change (who, when, from, to) is kept beside the log's own history.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("help given")
        verbose_name_plural = _("help given")
        constraints = [
            # One row per kind of help: a change of a log's help is an update of that row.
            models.UniqueConstraint(fields=["visit", "kind"], name="visit_help_one_per_kind"),
            # Money has an amount; goods have a description and a value.
            models.CheckConstraint(condition=~Q(kind="money") | Q(amount__gt=0), name="visit_help_money_has_amount"),
            models.CheckConstraint(
                condition=~Q(kind="goods") | (~Q(description="") & Q(amount__gte=0)), name="visit_help_goods_described"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="visit_help_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


def visit_photo_path(instance: "VisitPhoto", filename: str) -> str:
    """A random name (the extension kept): it tells nothing of the visit, the contact or the file."""
    return f"visits/{secrets.token_hex(16)}{PurePath(filename).suffix.lower()}"


def private_storage() -> Storage:
    """The "private" storage of STORAGES (PRIVATE_MEDIA_ROOT), looked up when used."""
    return storages["private"]


class VisitPhoto(models.Model):
    """A photo of a visit, re-encoded without metadata (visits/photos.py), kept in the private
    storage and read only through the visit_photo view, which applies the visit's own scope."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit log"), on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=visit_photo_path, storage=private_storage)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name
