from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from liaison.jobs import Job, JobStatus
from members.models import Contact, ContactCategory, ContactKind, LeadershipRole, Member, MemberCategory, Organisation


class TermKind(models.TextChoices):
    SEMESTER = "semester", _("Semester")
    YEAR = "year", _("Year")


class Term(models.Model):
    """A semester or a year of liaison work, for one organisation tree."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="terms"
    )
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=TermKind.choices, default=TermKind.SEMESTER)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    is_current = models.BooleanField(_("current"), default=False)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, help_text=_("A closed term's logs can no longer be changed.")
    )

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="term_ends_after_start"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(is_current=True), name="term_one_current_per_tree"
            ),
            models.UniqueConstraint(fields=["organisation", "name"], name="term_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PairingStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class PairingQuerySet(models.QuerySet):
    def active_in_open_term(self) -> PairingQuerySet:
        """Actively paired: the pairing is active, in its tree's current term, and that term is not closed.

        The one definition of "actively paired": who may log a visit, who is offered the
        button, whose due list a pairing is on and who may record a contact's request.
        """
        return self.filter(status=PairingStatus.ACTIVE, term__is_current=True, term__closed_at__isnull=True)


class Pairing(models.Model):
    """One member paired one-to-one with one contact for a term (结对)."""

    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="pairings"
    )
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.PROTECT, related_name="pairings")
    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.PROTECT, related_name="pairings")
    theme = models.CharField(_("liaison theme"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PairingStatus.choices, default=PairingStatus.ACTIVE)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=200, blank=True)
    history = HistoricalRecords()

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "contact", "term"],
                condition=Q(status="active"),
                name="pairing_one_active_per_member_contact_term",
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_on__isnull=True) | Q(status="ended", ended_on__isnull=False),
                name="pairing_ended_on_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="pairing_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["member", "status"]), models.Index(fields=["contact", "status"])]

    def __str__(self) -> str:
        return f"{self.member} ↔ {self.contact} ({self.term})"


class QuotaPolicy(models.Model):
    """How many contacts each member must be paired with this term, and how contacts may be shared.

    The required number for a member in one bucket (contact category × person/household)
    comes from the most specific matching rule, then a per-member override if there is one.
    """

    term = models.OneToOneField(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="policy")
    max_members_per_contact = models.PositiveSmallIntegerField(
        _("members per contact"),
        default=1,
        help_text=_("How many members may be paired with one contact at the same time."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quota policy")
        verbose_name_plural = _("quota policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_members_per_contact__gte=1), name="policy_members_per_contact_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.term)


class QuotaRule(models.Model):
    """One row of a policy: members matching (organisation, category, role) need N contacts of a kind.

    Empty conditions match everyone. When several rows match a member for the same
    bucket, the most specific wins: a role beats none, a member category beats none,
    and a deeper organisation beats a shallower one.
    """

    policy = models.ForeignKey(QuotaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="rules")
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("within organisation"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Leave empty for the whole tree."),
    )
    member_category = models.CharField(_("member category"), max_length=20, choices=MemberCategory.choices, blank=True)
    member_role = models.ForeignKey(
        LeadershipRole, verbose_name=_("member role"), on_delete=models.CASCADE, null=True, blank=True
    )
    contact_category = models.CharField(
        _("contact category"),
        max_length=20,
        choices=ContactCategory.choices,
        blank=True,
        help_text=_("Leave empty to count contacts of any category."),
    )
    unit = models.CharField(_("counted in"), max_length=10, choices=ContactKind.choices, default=ContactKind.PERSON)
    required = models.PositiveSmallIntegerField(_("required"))

    class Meta:
        verbose_name = _("quota rule")
        verbose_name_plural = _("quota rules")
        ordering = ["policy", "contact_category", "unit", "id"]
        constraints = [
            # One row per combination of conditions; an empty organisation or role is a
            # condition too, hence one constraint per case (SQLite has no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["policy", "member_category", "contact_category", "unit"],
                condition=Q(organisation__isnull=True, member_role__isnull=True),
                name="quota_rule_unique_everywhere",
            ),
            models.UniqueConstraint(
                fields=["policy", "organisation", "member_category", "contact_category", "unit"],
                condition=Q(member_role__isnull=True),
                name="quota_rule_unique_in_organisation",
            ),
            models.UniqueConstraint(
                fields=["policy", "member_role", "member_category", "contact_category", "unit"],
                condition=Q(organisation__isnull=True),
                name="quota_rule_unique_for_role",
            ),
            models.UniqueConstraint(
                fields=["policy", "organisation", "member_role", "member_category", "contact_category", "unit"],
                name="quota_rule_unique_for_role_in_organisation",
            ),
        ]

    def __str__(self) -> str:
        category = self.get_contact_category_display() or _("any category")
        return f"{category} × {self.required}"


class QuotaOverride(models.Model):
    """A member's own quota for one bucket this term, set by the secretary with a reason."""

    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="overrides")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="quota_overrides"
    )
    contact_category = models.CharField(
        _("contact category"), max_length=20, choices=ContactCategory.choices, blank=True
    )
    unit = models.CharField(_("counted in"), max_length=10, choices=ContactKind.choices, default=ContactKind.PERSON)
    required = models.PositiveSmallIntegerField(_("required"))
    reason = models.CharField(_("reason"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quota override")
        verbose_name_plural = _("quota overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["term", "member", "contact_category", "unit"], name="quota_override_unique"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="quota_override_has_reason"),
        ]

    def __str__(self) -> str:
        category = self.get_contact_category_display() or _("any category")
        return f"{self.member} · {category} × {self.required}"


class QuotaStatus(models.Model):
    """Stored result of the quota job: required and actual per member and bucket, for dashboards."""

    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="quota_statuses")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="quota_statuses"
    )
    contact_category = models.CharField(
        _("contact category"), max_length=20, choices=ContactCategory.choices, blank=True
    )
    unit = models.CharField(_("counted in"), max_length=10, choices=ContactKind.choices, default=ContactKind.PERSON)
    required = models.PositiveSmallIntegerField(_("required"))
    actual = models.PositiveIntegerField(_("actual"))
    shortfall = models.PositiveSmallIntegerField(_("short by"))
    overridden = models.BooleanField(_("overridden"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("quota status")
        verbose_name_plural = _("quota statuses")
        constraints = [
            models.UniqueConstraint(fields=["term", "member", "contact_category", "unit"], name="quota_status_unique"),
            models.CheckConstraint(condition=Q(shortfall__lte=F("required")), name="quota_status_shortfall_bounded"),
        ]
        indexes = [models.Index(fields=["term", "shortfall"])]

    def __str__(self) -> str:
        return f"{self.member} · {self.actual}/{self.required}"


class MatchingRun(Job):
    """A proposal of new pairings for a subtree, waiting for the secretary to accept all or part.

    The job is the computing of the proposal: "succeeded" means it is ready for review. The
    secretary's review afterwards is `review` (accepted or discarded, blank while waiting).
    """

    Status = JobStatus

    class Review(models.TextChoices):
        WAITING = "", _("Waiting for review")
        ACCEPTED = "accepted", _("Accepted")
        DISCARDED = "discarded", _("Discarded")

    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="matching_runs")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)
    review = models.CharField(_("review"), max_length=20, choices=Review.choices, default=Review.WAITING, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta(Job.Meta):
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_waiting_for_review(self) -> bool:
        return self.status == JobStatus.SUCCEEDED and not self.review


class ProposedPairing(models.Model):
    run = models.ForeignKey(
        MatchingRun, verbose_name=_("matching run"), on_delete=models.CASCADE, related_name="proposals"
    )
    member = models.ForeignKey(Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+")
    distance = models.PositiveSmallIntegerField(_("organisational distance"))

    class Meta:
        verbose_name = _("proposed pairing")
        verbose_name_plural = _("proposed pairings")
        ordering = ["member__name", "member_id", "contact_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "member", "contact"], name="proposed_pairing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} ↔ {self.contact}"


# Frequency rules: how often each paired contact is seen (read by pairings/frequency.py) ---


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
