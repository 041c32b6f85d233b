"""Pledges (承诺), service posts (设岗定责) and community registration (到社区报到)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from liaison.params import LONG_TEXT_MAX
from members.models import Member, Organisation


class PledgeState(models.TextChoices):
    PLEDGED = "pledged", _("Pledged")
    PUBLIC = "public", _("Made public")
    REPORTED = "reported", _("Reported by the member")
    EVALUATED = "evaluated", _("Evaluated")


class PledgeRating(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class Pledge(models.Model):
    """承诺: pledged → made public → carried out (progress) → reported → evaluated."""

    member = models.ForeignKey(Member, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="pledges")
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("pledge"), max_length=200)
    description = models.TextField(
        _("what will be done"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    state = models.CharField(_("state"), max_length=20, choices=PledgeState.choices, default=PledgeState.PLEDGED)
    made_public_on = models.DateField(_("made public on"), null=True, blank=True)
    report = models.TextField(
        _("member's report"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    rating = models.CharField(_("rating"), max_length=20, choices=PledgeRating.choices, blank=True)
    evaluation = models.TextField(
        _("secretary's evaluation"),
        blank=True,
        max_length=LONG_TEXT_MAX,
        validators=[MaxLengthValidator(LONG_TEXT_MAX)],
    )
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The hidden token of the form that made it (liaison.forms.IdempotencyKeyField): one object per post.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, editable=False)
    # Raised by every edit (liaison.services.version_claim): an edit opened on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["-year", "member__name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=PledgeState.values), name="pledge_state_valid"),
            models.CheckConstraint(condition=~Q(state="evaluated") | ~Q(rating=""), name="pledge_evaluated_has_rating"),
            models.CheckConstraint(
                condition=Q(state="pledged") | Q(made_public_on__isnull=False), name="pledge_public_has_date"
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="pledge_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PledgeProgress(models.Model):
    pledge = models.ForeignKey(Pledge, verbose_name=_("pledge"), on_delete=models.CASCADE, related_name="progress")
    happened_on = models.DateField(_("date"))
    note = models.TextField(
        _("what was done"), max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )

    class Meta:
        verbose_name = _("pledge progress")
        verbose_name_plural = _("pledge progress")
        ordering = ["happened_on", "id"]

    def __str__(self) -> str:
        return f"{self.happened_on}"


class ServicePost(models.Model):
    """设岗定责: a post an organisation defines, for members to claim."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="service_posts"
    )
    title = models.CharField(_("post"), max_length=100)
    duties = models.TextField(
        _("duties"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    places = models.PositiveSmallIntegerField(_("places"), default=1, validators=[MinValueValidator(1)])
    is_open = models.BooleanField(_("open for claiming"), default=True)

    class Meta:
        verbose_name = _("service post")
        verbose_name_plural = _("service posts")
        ordering = ["organisation__path", "title"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title"], name="service_post_unique"),
            models.CheckConstraint(condition=Q(places__gte=1), name="service_post_places_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class PostClaim(models.Model):
    post = models.ForeignKey(ServicePost, verbose_name=_("post"), on_delete=models.CASCADE, related_name="claims")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="post_claims"
    )
    claimed_on = models.DateField(_("claimed on"))
    released_on = models.DateField(_("released on"), null=True, blank=True)

    class Meta:
        verbose_name = _("claimed post")
        verbose_name_plural = _("claimed posts")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "member"], condition=Q(released_on__isnull=True), name="post_claim_one_active"
            ),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(released_on__gte=F("claimed_on")),
                name="post_claim_released_after_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.post}"


class CommunityRegistration(models.Model):
    """An in-service member reporting to a residential community (到社区报到)."""

    member = models.OneToOneField(
        Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="community_registration"
    )
    community = models.ForeignKey(
        Organisation, verbose_name=_("community"), on_delete=models.PROTECT, related_name="registrations"
    )
    registered_on = models.DateField(_("registered on"))

    class Meta:
        verbose_name = _("community registration")
        verbose_name_plural = _("community registrations")

    def __str__(self) -> str:
        return f"{self.member} → {self.community}"
