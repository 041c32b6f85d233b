from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.models import Contact, Member, Organisation


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
