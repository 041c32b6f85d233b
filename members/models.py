from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from liaison.jobs import Job, JobStatus
from liaison.params import LONG_TEXT_MAX
from liaison.paths import STEPLEN

from .masking import mask_address, mask_id_number, mask_phone
from .validators import validate_id_number, validate_phone

# An ID number identifies one person in the whole tree, so registering one that is already
# held fails. The refusal says no more than that the number cannot be used here: "already
# registered" would tell a secretary that a person with this ID number exists, perhaps in an
# organisation outside their scope (issue 11, finding 7). The roster import, the admin's
# forms and the database's own uniqueness check all give this one answer; the committee,
# which sees the whole tree, finds the person and moves them or corrects the number.
ID_NUMBER_UNAVAILABLE = _(
    "This ID number cannot be registered here. If this person belongs here, ask the party committee to move "
    "their record or to check the number."
)


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class OrganisationKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")
    GROUP = "group", _("Party group")


# Which kinds may sit directly under which: 党委 → 党总支 → 党支部 → 党小组,
# and a branch may also sit directly under the committee.
ALLOWED_CHILD_KINDS: dict[str, set[str]] = {
    OrganisationKind.COMMITTEE: {OrganisationKind.GENERAL_BRANCH, OrganisationKind.BRANCH},
    OrganisationKind.GENERAL_BRANCH: {OrganisationKind.BRANCH},
    OrganisationKind.BRANCH: {OrganisationKind.GROUP},
    OrganisationKind.GROUP: set(),
}


class Organisation(MP_Node):
    """A party organisation, stored as a materialised path (django-treebeard).

    A subtree is `path LIKE '<path>%'`: one query on an indexed column (liaison/paths.py).
    """

    steplen = STEPLEN

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("code"),
        max_length=30,
        unique=True,
        help_text=_("Short unique code used in roster files, e.g. CS-B01."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    secretary = models.ForeignKey(
        "Member",
        verbose_name=_("secretary"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="secretary_of",
    )
    public_board_enabled = models.BooleanField(
        _("public board"),
        default=False,
        help_text=_("Show registrations, claimed posts and pledges on a public page, readable without logging in."),
    )
    history = HistoricalRecords(excluded_fields=["path", "depth", "numchild"])

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class LeadershipRoleCode(models.TextChoices):
    LEADING_CADRE = "leading_cadre", _("Leading cadre")
    COMMITTEE_MEMBER = "committee_member", _("General branch committee member")
    BRANCH_SECRETARY = "branch_secretary", _("Branch secretary")
    MIDDLE_CADRE = "middle_cadre", _("Middle-level cadre")
    PARTY_REPRESENTATIVE = "party_representative", _("Party representative")


class LeadershipRole(models.Model):
    """A fixed vocabulary row, so roles can be filtered and joined in SQL on every database."""

    code = models.CharField(_("code"), max_length=30, unique=True, choices=LeadershipRoleCode.choices)

    class Meta:
        verbose_name = _("leadership role")
        verbose_name_plural = _("leadership roles")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.get_code_display())


class MemberCategory(models.TextChoices):
    FACULTY = "faculty", _("Faculty and staff")
    STUDENT = "student", _("Student")
    CADRE = "cadre", _("Cadre")
    RURAL = "rural", _("Rural")
    RETIRED = "retired", _("Retired")
    IN_SERVICE = "in_service", _("In-service")


class MemberStatus(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class Member(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    category = models.CharField(_("category"), max_length=20, choices=MemberCategory.choices)
    status = models.CharField(_("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.FULL)
    roles = models.ManyToManyField(LeadershipRole, verbose_name=_("leadership roles"), blank=True)
    joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    id_number = models.CharField(
        _("ID number"), max_length=18, validators=[validate_id_number], help_text=_("Resident ID card number.")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[roles])

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["organisation__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                name="member_id_number_unique",
                violation_error_message=ID_NUMBER_UNAVAILABLE,
                violation_error_code="unique",  # shown beside the ID number field
            ),
            models.CheckConstraint(condition=Q(category__in=MemberCategory.values), name="member_category_valid"),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
            models.CheckConstraint(condition=Q(gender__in=Gender.values), name="member_gender_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class ContactCategory(models.TextChoices):
    ACTIVIST = "activist", _("Activist applying to join")
    STAFF = "staff", _("Staff")
    STUDENT = "student", _("Student")
    CITIZEN_IN_DIFFICULTY = "citizen", _("Citizen in difficulty")
    NON_PARTY = "non_party", _("Non-party figure")


class ContactKind(models.TextChoices):
    """Whom a contact stands for: quotas are counted in people or, in villages, in households."""

    PERSON = "person", _("Person")
    HOUSEHOLD = "household", _("Household")


class ContactReasonCode(models.TextChoices):
    CONFUSED = "confused", _("Confused in thinking")
    WORK_DIFFICULTY = "work_difficulty", _("Difficulty at work")
    LIFE_DIFFICULTY = "life_difficulty", _("Needs help in life")
    NEWLY_HIRED = "newly_hired", _("Newly hired")
    STRUGGLING_STUDENT = "struggling", _("Struggling with studies")
    POOR_STUDENT = "poor_student", _("Student from a poor family")
    LOW_INCOME = "low_income", _("Low-income (dibao) household")
    HARDSHIP_HOUSEHOLD = "hardship", _("Hardship household")
    EMPTY_NEST = "empty_nest", _("Empty-nest elderly")
    LEFT_BEHIND = "left_behind", _("Left-behind child")
    ILL = "ill", _("In difficulty through illness")
    PETITIONER = "petitioner", _("Petitioner")


# The reasons (and hardship tags) that make sense for each contact category.
REASONS_BY_CATEGORY: dict[str, set[str]] = {
    ContactCategory.ACTIVIST: set(),
    ContactCategory.STAFF: {
        ContactReasonCode.CONFUSED,
        ContactReasonCode.WORK_DIFFICULTY,
        ContactReasonCode.LIFE_DIFFICULTY,
        ContactReasonCode.NEWLY_HIRED,
    },
    ContactCategory.STUDENT: {
        ContactReasonCode.STRUGGLING_STUDENT,
        ContactReasonCode.POOR_STUDENT,
        ContactReasonCode.CONFUSED,
    },
    ContactCategory.CITIZEN_IN_DIFFICULTY: {
        ContactReasonCode.LOW_INCOME,
        ContactReasonCode.HARDSHIP_HOUSEHOLD,
        ContactReasonCode.EMPTY_NEST,
        ContactReasonCode.LEFT_BEHIND,
        ContactReasonCode.ILL,
        ContactReasonCode.PETITIONER,
    },
    ContactCategory.NON_PARTY: set(),
}


class ContactReason(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True, choices=ContactReasonCode.choices)

    class Meta:
        verbose_name = _("contact reason")
        verbose_name_plural = _("contact reasons")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.get_code_display())


class Contact(models.Model):
    """A member of the public whom party members liaise with (联系对象/群众)."""

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("responsible organisation"),
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    category = models.CharField(_("category"), max_length=20, choices=ContactCategory.choices)
    kind = models.CharField(_("person or household"), max_length=10, choices=ContactKind.choices, default="person")
    reasons = models.ManyToManyField(ContactReason, verbose_name=_("reasons and hardship"), blank=True)
    unit = models.CharField(
        _("unit"), max_length=100, blank=True, help_text=_("Department, class, village group or workplace.")
    )
    id_number = models.CharField(_("ID number"), max_length=18, blank=True, validators=[validate_id_number])
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    address = models.CharField(_("address"), max_length=200, blank=True)
    notes = models.TextField(
        _("notes"), blank=True, max_length=LONG_TEXT_MAX, validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[reasons])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organisation__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(id_number=""),
                name="contact_id_number_unique",
                violation_error_message=ID_NUMBER_UNAVAILABLE,
                violation_error_code="unique",
            ),
            # Without an ID number, name + phone identify a contact within an organisation.
            models.UniqueConstraint(
                fields=["organisation", "name", "phone"],
                condition=Q(id_number=""),
                name="contact_name_phone_unique_without_id",
            ),
            models.CheckConstraint(condition=~Q(id_number="") | ~Q(phone=""), name="contact_has_id_number_or_phone"),
            models.CheckConstraint(condition=Q(category__in=ContactCategory.values), name="contact_category_valid"),
            models.CheckConstraint(condition=Q(gender__in=Gender.values), name="contact_gender_valid"),
            models.CheckConstraint(condition=Q(kind__in=ContactKind.values), name="contact_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_address(self) -> str:
        return mask_address(self.address)


class Appointment(models.Model):
    """A committee-level role held over an organisation's subtree.

    Branch secretaries are not listed here: a secretary's reach comes from
    `Organisation.secretary`, the one place that says who runs a branch.
    """

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Committee administrator")
        INSPECTOR = "inspector", _("Discipline inspector")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="appointments"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="appointments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="appointment_unique"),
            models.CheckConstraint(condition=Q(role__in=["administrator", "inspector"]), name="appointment_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class SensitiveAccess(models.Model):
    """Who saw or exported whose full personal data, and when (PIPL access log)."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Revealed on screen")
        ADMIN_EDIT = "admin_edit", _("Opened for editing")
        EXPORT = "export", _("Exported in full")
        HISTORY = "history", _("Read in the admin's history")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    # PROTECT: a person the access log names cannot be deleted, so the log is never erased with them.
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("party member"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    fields = models.CharField(_("fields"), max_length=100)
    accessed_at = models.DateTimeField(_("accessed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-accessed_at", "-id"]
        constraints = [
            # Each row is about exactly one person.
            models.CheckConstraint(
                condition=Q(contact__isnull=False, member__isnull=True) | Q(contact__isnull=True, member__isnull=False),
                name="sensitive_access_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_action_display()} · {self.contact or self.member}"


class ImportJob(Job):
    """One upload of a roster file; large files are processed by a Celery worker."""

    class Kind(models.TextChoices):
        MEMBERS = "members", _("Party members")
        CONTACTS = "contacts", _("Contacts")

    Status = JobStatus

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    filename = models.CharField(_("file name"), max_length=200)
    # Kept in the database so a worker on another machine can read it.
    content = models.BinaryField(_("content"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    # The hidden token of the form that made it (liaison.forms.IdempotencyKeyField): one object per post.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, editable=False)

    # A run delivered again after its worker died counts from zero.
    reset_on_claim = {"total_rows": 0, "created_count": 0, "updated_count": 0, "problems": [], "changes": {}}
    # The upload holds personal data: gone however the import ends (its rows, if any, are in the tables).
    cleared_on_end = {"content": b""}
    stopped_message = _("The background worker stopped during the import. Nothing was imported; upload the file again.")
    not_taken_message = _("No background worker took the import in time. Nothing was imported; upload the file again.")
    # What a successful import changed: {"fields": {key: rows}, "rows": [{"line", "name", "fields"}], "kept": [key]}
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta(Job.Meta):
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(condition=Q(kind__in=["members", "contacts"]), name="import_job_kind_valid"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="import_job_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def change_summary(self) -> list[tuple[str, int]]:
        """(column label, rows changed) for each field the import changed, in the template's order."""
        from .roster import COLUMNS  # the roster module imports these models

        counts = (self.changes or {}).get("fields", {})
        return [(str(column.header), counts[column.key]) for column in COLUMNS[self.kind] if column.key in counts]

    @property
    def changed_rows(self) -> list[dict]:
        from .roster import column_label

        return [
            {**row, "labels": [column_label(self.kind, key) for key in row["fields"]]}
            for row in (self.changes or {}).get("rows", [])
        ]

    @property
    def kept_columns(self) -> list[str]:
        """The optional columns the file lacked: their stored values were left as they were."""
        from .roster import column_label

        return [column_label(self.kind, key) for key in (self.changes or {}).get("kept", [])]


class AccountEvent(models.Model):
    """What was done to a login account, by whom and when: append-only, like the access log.

    Written by `members.services.account_event_log` only (password set or changed, account
    created, deactivated or reactivated, groups changed, a login lockout lifted). The names are
    kept beside the foreign keys, so a row still says who and whom after an account is deleted.
    `organisation` is where the account belongs (its member's branch, its appointment, or the
    committee of the administrator who created it): administrators and inspectors of that
    subtree read the row.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Account created")
        PASSWORD_RESET = "password_reset", _("Password set by someone else")
        PASSWORD_CHANGED = "password_changed", _("Own password changed")
        PASSWORD_DISABLED = "password_disabled", _("Password login disabled")
        DEACTIVATED = "deactivated", _("Account deactivated")
        REACTIVATED = "reactivated", _("Account reactivated")
        GROUPS_CHANGED = "groups_changed", _("Groups changed")
        UNLOCKED = "unlocked", _("Login lockout lifted")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    by_username = models.CharField(_("by (login name)"), max_length=150, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_events",
    )
    username = models.CharField(_("login name"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "created",
                        "password_reset",
                        "password_changed",
                        "password_disabled",
                        "deactivated",
                        "reactivated",
                        "groups_changed",
                        "unlocked",
                    ]
                ),
                name="account_event_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.by_username or '—'} · {self.get_kind_display()} · {self.username}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Account events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Account events are append-only.")
