"""Evaluation for the democratic review (民主评议), and the public satisfaction survey."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from liaison.jobs import Job, JobStatus
from liaison.params import LONG_TEXT_MAX
from members.models import Contact, Member, Organisation
from pairings.models import Term

# Evaluation policy -----------------------------------------------------------------------


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    COMPETENT = "competent", _("Competent")
    BASICALLY_COMPETENT = "basically_competent", _("Basically competent")
    INCOMPETENT = "incompetent", _("Incompetent")


class ItemKind(models.TextChoices):
    QUOTA = "quota", _("Quota fulfilment")
    FREQUENCY = "frequency", _("Talk frequency")
    REQUESTS = "requests", _("Requests resolved on time")
    PLEDGES = "pledges", _("Pledges kept")
    SATISFACTION = "satisfaction", _("Public satisfaction")


class EvaluationPolicy(models.Model):
    """The term's 100-point score sheet: grade thresholds and the satisfaction line."""

    term = models.OneToOneField(
        Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="evaluation_policy"
    )
    excellent_from = models.PositiveSmallIntegerField(_("excellent from (points)"), default=90)
    competent_from = models.PositiveSmallIntegerField(_("competent from (points)"), default=75)
    basically_competent_from = models.PositiveSmallIntegerField(_("basically competent from (points)"), default=60)
    satisfaction_threshold = models.PositiveSmallIntegerField(
        _("satisfaction threshold (%)"),
        default=80,
        help_text=_("Public satisfaction below this raises an accountability flag."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation policy")
        verbose_name_plural = _("evaluation policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(basically_competent_from__lte=F("competent_from"))
                & Q(competent_from__lte=F("excellent_from"))
                & Q(excellent_from__lte=100),
                name="evaluation_policy_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction_threshold__lte=100), name="evaluation_policy_satisfaction_percent"
            ),
        ]

    def __str__(self) -> str:
        return str(self.term)


class EvaluationItem(models.Model):
    """One line of the score sheet: how many of the 100 points an item is worth."""

    policy = models.ForeignKey(
        EvaluationPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("item"), max_length=20, choices=ItemKind.choices)
    points = models.PositiveSmallIntegerField(_("points"))

    class Meta:
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")
        ordering = ["policy", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "kind"], name="evaluation_item_unique"),
            models.CheckConstraint(condition=Q(kind__in=ItemKind.values), name="evaluation_item_kind_valid"),
            models.CheckConstraint(condition=Q(points__lte=100), name="evaluation_item_points_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.points}"


# Results ---------------------------------------------------------------------------------

RATE_FIELDS = {
    ItemKind.QUOTA: "quota_rate",
    ItemKind.FREQUENCY: "frequency_rate",
    ItemKind.REQUESTS: "requests_rate",
    ItemKind.PLEDGES: "pledges_rate",
    ItemKind.SATISFACTION: "satisfaction_rate",
}


def _rate_field(label):
    return models.DecimalField(label, max_digits=5, decimal_places=4, null=True, blank=True)


def effective_grade() -> Case:
    """The grade that counts: the secretary's adjustment when there is one, else the computed grade.

    For queries (filters, counts); `Evaluation.grade` reads the same rule off one row."""
    return Case(When(~Q(adjusted_grade=""), then=F("adjusted_grade")), default=F("computed_grade"))


class Evaluation(models.Model):
    """One member's result for a term, as the evaluation job left it (re-runs overwrite it).

    Each rate is between 0 and 1, or empty when the item does not apply to the member
    (no requests to answer for, no pledge, no survey answer): the score is then out of
    the items that do apply. A secretary's adjustment is kept apart from the computed
    grade, so a re-run never undoes it.
    """

    # PROTECT: an evaluation is a record of the review meeting; deleting a person or a term never erases it.
    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.PROTECT, related_name="evaluations")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="evaluations"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="evaluations"
    )
    quota_rate = _rate_field(_("quota fulfilment"))
    frequency_rate = _rate_field(_("talk frequency"))
    requests_rate = _rate_field(_("requests resolved on time"))
    pledges_rate = _rate_field(_("pledges kept"))
    satisfaction_rate = _rate_field(_("public satisfaction"))
    survey_answers = models.PositiveIntegerField(_("survey answers"), default=0)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    computed_grade = models.CharField(_("computed grade"), max_length=20, choices=Grade.choices, blank=True)
    adjusted_grade = models.CharField(_("adjusted grade"), max_length=20, choices=Grade.choices, blank=True)
    accountability = models.BooleanField(
        _("accountability"), default=False, help_text=_("Public satisfaction fell below the policy's threshold.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["organisation__path", "member__name", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["term", "member"], name="evaluation_one_per_member_term"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="evaluation_score_bounded"
            ),
            models.CheckConstraint(
                condition=Q(computed_grade="") | Q(computed_grade__in=Grade.values), name="evaluation_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(adjusted_grade="") | Q(adjusted_grade__in=Grade.values),
                name="evaluation_adjusted_grade_valid",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0, f"{field}__lte": 1}),
                    name=f"evaluation_{field}_bounded",
                )
                for field in RATE_FIELDS.values()
            ],
        ]
        indexes = [models.Index(fields=["term", "organisation"])]

    def __str__(self) -> str:
        return f"{self.member} · {self.term}"

    @property
    def grade(self) -> str:
        """The grade that counts (`effective_grade` is the same rule in SQL)."""
        return self.adjusted_grade or self.computed_grade

    def get_grade_display(self) -> str | Promise:
        return Grade(self.grade).label if self.grade else ""


class GradeAdjustment(models.Model):
    """A secretary's change of a member's grade, with the reason: the evaluation's history."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="adjustments"
    )
    from_grade = models.CharField(_("from"), max_length=20, choices=Grade.choices, blank=True)
    to_grade = models.CharField(_("to"), max_length=20, choices=Grade.choices)
    reason = models.TextField(_("reason"), max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)])
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade adjustment")
        verbose_name_plural = _("grade adjustments")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="grade_adjustment_has_reason"),
            models.CheckConstraint(condition=Q(to_grade__in=Grade.values), name="grade_adjustment_grade_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.from_grade} → {self.to_grade}"


class EvaluationRun(Job):
    """One run of the evaluation job over a subtree, for the progress page and the record."""

    Status = JobStatus

    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="evaluation_runs")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)
    members_evaluated = models.PositiveIntegerField(_("members evaluated"), default=0)

    reset_on_claim = {"members_evaluated": 0}

    class Meta(Job.Meta):
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            # One run at a time per term and subtree: asking again returns the one under way.
            models.UniqueConstraint(
                fields=["term", "organisation"],
                condition=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
                name="evaluation_run_one_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.term}"


# Public satisfaction survey ----------------------------------------------------------------


class SatisfactionRating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


# Ratings that count towards the satisfaction rate (满意率 = 满意 + 基本满意).
SATISFIED_RATINGS = (SatisfactionRating.SATISFIED, SatisfactionRating.BASICALLY_SATISFIED)


class SurveyLink(models.Model):
    """A one-time link for one contact to rate one member's service this term.

    The token is random (192 bits) and expires. The link knows only *whether* it was
    answered, never what: answers carry no link and no contact.
    """

    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="survey_links")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="survey_links"
    )
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+")
    token = models.CharField(_("token"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered = models.BooleanField(_("answered"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey link")
        verbose_name_plural = _("survey links")
        ordering = ["member__name", "member_id", "contact__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["term", "member", "contact"], name="survey_link_one_per_pairing_term"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.term}"


class SurveyResponse(models.Model):
    """One answer to the survey. Deliberately without link, contact or time of day."""

    # PROTECT: the public's answers outlive any deletion of the member or the term they rate.
    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.PROTECT, related_name="survey_responses")
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="survey_responses"
    )
    rating = models.CharField(_("rating"), max_length=20, choices=SatisfactionRating.choices)
    comment = models.TextField(_("comment"), max_length=500, blank=True, validators=[MaxLengthValidator(500)])
    submitted_on = models.DateField(_("submitted on"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        # By date then rating, never by id: the order of arrival must not point to a link.
        ordering = ["-submitted_on", "rating", "comment"]
        indexes = [models.Index(fields=["term", "member"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__in=SatisfactionRating.values), name="survey_response_rating_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_rating_display()


# Exports -------------------------------------------------------------------------------------


class ExportStorage(FileSystemStorage):
    """Exports hold personal data: kept in EXPORT_ROOT, outside MEDIA_ROOT, never served as public files."""

    @property
    def base_location(self) -> str:
        return str(settings.EXPORT_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def export_storage() -> ExportStorage:
    return ExportStorage()


class ExportJob(Job):
    """A large ledger export written by a Celery worker, downloaded by the user who asked for it."""

    Status = JobStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="export_jobs"
    )
    term = models.ForeignKey(Term, verbose_name=_("term"), on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("ledger"), max_length=20)
    full_personal_data = models.BooleanField(_("full personal data"), default=False)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), storage=export_storage, upload_to="%Y/%m/", blank=True)

    # A run delivered again after its worker died writes every row again, into a new file.
    reset_on_claim = {"rows_written": 0, "file": ""}

    class Meta(Job.Meta):
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} · {self.organisation} · {self.term}"

    @property
    def percent(self) -> int:
        """The job's progress, or the rows written so far when that is further along."""
        if self.status == JobStatus.SUCCEEDED:
            return 100
        by_rows = min(99, self.rows_written * 100 // self.rows_total) if self.rows_total else 0
        return max(self.progress, by_rows)
