"""Field work: visit and talk logs, frequency rules, requests, pledges, service posts."""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.models import Contact, ContactCategory, LeadershipRole, Member, Organisation
from pairings.models import Pairing, QuotaPolicy

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
    discussed = models.TextField(_("what was discussed"))
    views_and_requests = models.TextField(_("the contact's views and requests"), blank=True)
    follow_up = models.TextField(_("follow-up needed"), blank=True)
    situation = models.CharField(_("situation to report"), max_length=20, choices=Situation.choices, blank=True)
    situation_details = models.TextField(_("situation details"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
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

    class Meta:
        verbose_name = _("help given")
        verbose_name_plural = _("help given")
        constraints = [
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


# Frequency rules --------------------------------------------------------------------


class FrequencyPeriod(models.TextChoices):
    TERM = "term", _("per term")
    MONTH = "month", _("per month")
    WEEK = "week", _("per week")


class FrequencyRule(models.Model):
    """At least N contacts with each paired contact per period (e.g. 3 talks a semester)."""

    policy = models.ForeignKey(
        QuotaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="frequency_rules"
    )
    contact_category = models.CharField(
        _("contact category"), max_length=20, choices=ContactCategory.choices, blank=True
    )
    member_role = models.ForeignKey(
        LeadershipRole, verbose_name=_("member role"), on_delete=models.CASCADE, null=True, blank=True
    )
    period = models.CharField(_("period"), max_length=10, choices=FrequencyPeriod.choices)
    minimum = models.PositiveSmallIntegerField(_("at least"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("frequency rule")
        verbose_name_plural = _("frequency rules")
        constraints = [
            models.CheckConstraint(condition=Q(minimum__gte=1), name="frequency_rule_minimum_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.minimum} {self.get_period_display()}"


# Notifications ----------------------------------------------------------------------


class Notification(models.Model):
    class Kind(models.TextChoices):
        FALLING_BEHIND = "falling_behind", _("Falling behind")
        URGENT_SITUATION = "urgent_situation", _("Urgent situation")
        REQUEST_ASSIGNED = "request_assigned", _("Request assigned")
        REQUEST_SUPERVISED = "request_supervised", _("Request supervised")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


# Requests (诉求) ---------------------------------------------------------------------


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
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit log"), on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    source = models.CharField(_("source"), max_length=20, choices=RequestSource.choices)
    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(_("details"), blank=True)
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
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "deadline"])]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=RequestState.values), name="request_state_valid"),
            # Assigned work has someone responsible and a deadline.
            models.CheckConstraint(
                condition=~Q(state__in=["assigned", "in_progress"])
                | (Q(responsible__isnull=False) & Q(deadline__isnull=False)),
                name="request_assigned_has_owner_and_deadline",
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
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


# Pledges, service posts, community registration --------------------------------------


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
    description = models.TextField(_("what will be done"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=PledgeState.choices, default=PledgeState.PLEDGED)
    made_public_on = models.DateField(_("made public on"), null=True, blank=True)
    report = models.TextField(_("member's report"), blank=True)
    rating = models.CharField(_("rating"), max_length=20, choices=PledgeRating.choices, blank=True)
    evaluation = models.TextField(_("secretary's evaluation"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
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
        ]

    def __str__(self) -> str:
        return self.title


class PledgeProgress(models.Model):
    pledge = models.ForeignKey(Pledge, verbose_name=_("pledge"), on_delete=models.CASCADE, related_name="progress")
    happened_on = models.DateField(_("date"))
    note = models.TextField(_("what was done"))

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
    duties = models.TextField(_("duties"), blank=True)
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
