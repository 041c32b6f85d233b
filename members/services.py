"""Writes for organisations, members, contacts and the personal-data access log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liaison.jobs import JobLost, job_atomic, job_enqueue, job_fail, job_language, job_progress, job_start, job_succeed
from liaison.paths import root_path
from liaison.services import create_once, model_update

from .masking import MASKED_FIELDS
from .models import (
    ALLOWED_CHILD_KINDS,
    ID_NUMBER_UNAVAILABLE,
    REASONS_BY_CATEGORY,
    AccountEvent,
    Appointment,
    Contact,
    ContactKind,
    ContactReason,
    ImportJob,
    LeadershipRole,
    Member,
    Organisation,
    OrganisationKind,
    SensitiveAccess,
)
from .roster import ParsedRoster, RosterFileError, RowProblem, estimate_rows, parse_roster
from .scoping import forget_scope, get_scope
from .selectors import account_home, account_is_manageable, lockout_usernames_q, organisation_manageable_list
from .validators import name_key

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MEMBER_ORGANISATION_KINDS = {OrganisationKind.BRANCH, OrganisationKind.GROUP}


@transaction.atomic
def organisation_create(
    *, name: str, code: str, kind: str, parent: Organisation | None = None, secretary: Member | None = None
) -> Organisation:
    if parent is None:
        if kind != OrganisationKind.COMMITTEE:
            raise ValidationError(_("Only a party committee can stand at the top of the tree."))
    elif kind not in ALLOWED_CHILD_KINDS[parent.kind]:
        raise ValidationError(
            _("A %(child)s cannot be placed under a %(parent)s.")
            % {"child": OrganisationKind(kind).label, "parent": OrganisationKind(parent.kind).label}
        )
    organisation = Organisation(name=name, code=code, kind=kind, secretary=secretary)
    organisation.full_clean(exclude=["path", "depth", "numchild"])
    if parent is None:
        return Organisation.objects.add_root(instance=organisation)
    # treebeard updates the parent's numchild: work on a fresh copy of it.
    return Organisation.objects.add_child(Organisation.objects.get(pk=parent.pk), instance=organisation)


@transaction.atomic
def organisation_set_secretary(*, organisation: Organisation, secretary: Member | None) -> Organisation:
    if secretary is not None and not secretary.organisation.path.startswith(organisation.path):
        raise ValidationError(_("The secretary must be a member of this organisation or one below it."))
    organisation.secretary = secretary
    organisation.save(update_fields=["secretary"])
    if secretary is not None and secretary.user is not None:
        forget_scope(secretary.user)
    return organisation


@transaction.atomic
def appointment_create(*, user: User, organisation: Organisation, role: str) -> Appointment:
    appointment = Appointment(user=user, organisation=organisation, role=role)
    appointment.full_clean()
    appointment.save()
    forget_scope(user)
    return appointment


def check_member_organisation(organisation: Organisation) -> None:
    """Members belong to a branch (or one of its party groups), never higher up the tree."""
    if organisation.kind not in MEMBER_ORGANISATION_KINDS:
        raise ValidationError(
            {
                "organisation": _("A party member belongs to a branch or a party group, not to %(kind)s.")
                % {"kind": OrganisationKind(organisation.kind).label}
            }
        )


def _roles_by_code(codes: Iterable[str]) -> list[LeadershipRole]:
    return list(LeadershipRole.objects.filter(code__in=list(codes)))


def _reasons_by_code(codes: Iterable[str]) -> list[ContactReason]:
    return list(ContactReason.objects.filter(code__in=list(codes)))


def check_contact_reasons(*, category: str, reason_codes: Iterable[str]) -> None:
    allowed = REASONS_BY_CATEGORY.get(category, set())
    wrong = sorted(set(reason_codes) - allowed)
    if wrong:
        labels = ", ".join(str(ContactReason(code=code)) for code in wrong)
        raise ValidationError(
            {"reasons": _("These reasons do not apply to this category: %(reasons)s.") % {"reasons": labels}}
        )


class _Keep:
    """The value a field keeps on an update when the caller does not name it (a roster column the file lacks)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not KEEP}


def _changed_fields(instance: Any, values: dict[str, Any]) -> list[str]:
    return [name for name, value in values.items() if getattr(instance, name) != value]


@transaction.atomic
def member_save(
    *,
    member: Member | None = None,
    name: str,
    gender: str,
    organisation: Organisation,
    category: str,
    status: str,
    id_number: str,
    phone: str = KEEP,
    joined_on: date | None = KEEP,
    role_codes: Iterable[str] = KEEP,
) -> tuple[Member, list[str]]:
    """Create a member, or update `member` with these values (only what changed is written).

    An optional argument left out (`KEEP`) keeps the stored value on an update and takes the
    field's default on a new member. Returns the member and the names of the fields that
    changed (every field given, for a new one; "roles" when the roles changed).
    """
    check_member_organisation(organisation)
    values = _given(
        {
            "name": name,
            "gender": gender,
            "organisation": organisation,
            "category": category,
            "status": status,
            "id_number": id_number,
            "phone": phone,
            "joined_on": joined_on,
        }
    )
    if member is None:
        member = Member(**values)
        member.full_clean(exclude=["user"])
        member.save()
        changed = list(values)
    else:
        changed = _changed_fields(member, values)
        member, _saved = model_update(instance=member, fields=values, data=values, clean_exclude=["user"])
    if role_codes is not KEEP:
        role_codes = set(role_codes)
        if {role.code for role in member.roles.all()} != role_codes:
            member.roles.set(_roles_by_code(role_codes))
            changed.append("roles")
    return member, changed


@transaction.atomic
def contact_save(
    *,
    contact: Contact | None = None,
    name: str,
    gender: str,
    organisation: Organisation,
    category: str,
    kind: str = KEEP,
    reason_codes: Iterable[str] = KEEP,
    unit: str = KEEP,
    id_number: str = KEEP,
    phone: str = KEEP,
    address: str = KEEP,
    notes: str = KEEP,
) -> tuple[Contact, list[str]]:
    """Create a contact, or update `contact` with these values (only what changed is written).

    As `member_save`: an optional argument left out keeps the stored value. Returns the
    contact and the names of the fields that changed ("reasons" when the reasons did).
    """
    if reason_codes is KEEP:
        kept = set() if contact is None else {reason.code for reason in contact.reasons.all()}
        check_contact_reasons(category=category, reason_codes=kept)
    else:
        reason_codes = set(reason_codes)
        check_contact_reasons(category=category, reason_codes=reason_codes)
    values = _given(
        {
            "name": name,
            "gender": gender,
            "organisation": organisation,
            "category": category,
            "kind": kind,
            "unit": unit,
            "id_number": id_number,
            "phone": phone,
            "address": address,
            "notes": notes,
        }
    )
    if contact is None:
        contact = Contact(**values)
        contact.full_clean()
        contact.save()
        changed = list(values)
    else:
        changed = _changed_fields(contact, values)
        contact, _saved = model_update(instance=contact, fields=values, data=values)
    if reason_codes is not KEEP and {reason.code for reason in contact.reasons.all()} != reason_codes:
        contact.reasons.set(_reasons_by_code(reason_codes))
        changed.append("reasons")
    return contact, changed


@transaction.atomic
def member_link_account(*, member: Member, username: str, password: str | None = None) -> User:
    """Give a member a login account (or reuse the one with that username)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"first_name": member.name})
    if created or password is not None:
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    member.user = user
    member.save(update_fields=["user", "updated_at"])
    return user


SENSITIVE_CONTACT_FIELDS = MASKED_FIELDS["members.Contact"]
SENSITIVE_MEMBER_FIELDS = MASKED_FIELDS["members.Member"]


@transaction.atomic
def contact_reveal(*, user: User, contact: Contact, action: str = SensitiveAccess.Action.REVEAL) -> Contact:
    """Check the user may see this contact's data in full, and log that they did."""
    if not get_scope(user).manages(contact.organisation):
        raise PermissionDenied(_("You are not entitled to see this contact's personal data in full."))
    SensitiveAccess.objects.create(user=user, contact=contact, action=action, fields=",".join(SENSITIVE_CONTACT_FIELDS))
    return contact


@transaction.atomic
def member_reveal(*, user: User, member: Member, action: str = SensitiveAccess.Action.REVEAL) -> Member:
    scope = get_scope(user)
    is_self = scope.member is not None and scope.member.pk == member.pk
    if not (is_self or scope.manages(member.organisation)):
        raise PermissionDenied(_("You are not entitled to see this member's personal data in full."))
    if not is_self:
        SensitiveAccess.objects.create(
            user=user, member=member, action=action, fields=",".join(SENSITIVE_MEMBER_FIELDS)
        )
    return member


@transaction.atomic
def sensitive_export_log(*, user: User, contacts: Iterable[Contact] = (), members: Iterable[Member] = ()) -> int:
    """Log a full-value export: one row per person whose data left the system."""
    rows = [
        SensitiveAccess(
            user=user,
            contact=contact,
            action=SensitiveAccess.Action.EXPORT,
            fields=",".join(SENSITIVE_CONTACT_FIELDS),
        )
        for contact in contacts
    ] + [
        SensitiveAccess(
            user=user, member=member, action=SensitiveAccess.Action.EXPORT, fields=",".join(SENSITIVE_MEMBER_FIELDS)
        )
        for member in members
    ]
    SensitiveAccess.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# Login accounts --------------------------------------------------------------


def account_check_manageable(*, by: User, account: User) -> None:
    """Refuse (403) a change to an account `by` may not manage (members.selectors.account_list)."""
    if not account_is_manageable(user=by, account=account):
        raise PermissionDenied(_("You cannot manage this account."))


def _administrator_home(user: User | None) -> Organisation | None:
    if user is None:
        return None
    paths = get_scope(user).administrator_paths
    return Organisation.objects.filter(path=paths[0]).first() if paths else None


@transaction.atomic
def account_event_log(
    *,
    by: User | None,
    kind: str,
    account: User | None = None,
    username: str = "",
    ip_address: str | None = None,
    detail: str = "",
) -> AccountEvent:
    """Write down what was done to a login account: who, whom, when, what (append-only).

    The one writer of the account log. Every password set or changed (the admin's password
    form, one's own password change), every account created, deactivated or reactivated,
    every change of groups and every login lockout lifted calls it.
    """
    if kind not in AccountEvent.Kind.values:
        raise ValidationError(_("There is no account event called “%(kind)s”.") % {"kind": kind})
    event = AccountEvent(
        kind=kind,
        by=by,
        by_username=by.get_username() if by is not None else "",
        account=account,
        username=(account.get_username() if account is not None else username)[:150],
        organisation=account_home(account) or _administrator_home(by),
        ip_address=ip_address or None,
        detail=detail[:200],
    )
    event.full_clean()
    event.save()
    return event


def account_password_logged(*, by: User, account: User, password_before: str) -> AccountEvent | None:
    """Log a password the admin's forms just saved, if it changed: reset by another, or one's own."""
    account.refresh_from_db(fields=["password"])
    if account.password == password_before:
        return None
    if not account.has_usable_password():
        kind = AccountEvent.Kind.PASSWORD_DISABLED
    elif account.pk == by.pk:
        kind = AccountEvent.Kind.PASSWORD_CHANGED
    else:
        kind = AccountEvent.Kind.PASSWORD_RESET
    return account_event_log(by=by, kind=kind, account=account)


def account_changes_logged(
    *, by: User, account: User, created: bool, was_active: bool, groups_before: set[str]
) -> list[AccountEvent]:
    """Log what the admin's account form just saved: a new account, (de)activation, other groups."""
    events = []
    if created:
        events.append(account_event_log(by=by, kind=AccountEvent.Kind.CREATED, account=account))
    elif account.is_active != was_active:
        kind = AccountEvent.Kind.REACTIVATED if account.is_active else AccountEvent.Kind.DEACTIVATED
        events.append(account_event_log(by=by, kind=kind, account=account))
    groups_after = set(account.groups.values_list("name", flat=True))
    if groups_after != groups_before:
        added = ", ".join(sorted(groups_after - groups_before))
        removed = ", ".join(sorted(groups_before - groups_after))
        detail = "; ".join(part for part in (f"+ {added}" if added else "", f"- {removed}" if removed else "") if part)
        events.append(account_event_log(by=by, kind=AccountEvent.Kind.GROUPS_CHANGED, account=account, detail=detail))
    return events


@transaction.atomic
def lockout_release(*, by: User, attempt_ids: Iterable[int]) -> int:
    """Lift login lockouts: delete django-axes' failure counts, each deletion in the account log.

    Only the rows `by` may see are touched (members.selectors.lockout_usernames_q); returns
    how many were lifted. A lockout is a count of failures for a login name at an address:
    deleting it lets that name log in from that address again at once.
    """
    from axes.models import AccessAttempt

    if not get_scope(by).is_administrator:
        raise PermissionDenied(_("Only committee administrators can lift a login lockout."))
    attempts = list(
        AccessAttempt.objects.select_for_update()
        .filter(lockout_usernames_q(user=by), pk__in=list(attempt_ids))
        .order_by("pk")
    )
    accounts = {
        account.get_username(): account
        for account in get_user_model().objects.filter(username__in=[a.username for a in attempts if a.username])
    }
    for attempt in attempts:
        account_event_log(
            by=by,
            kind=AccountEvent.Kind.UNLOCKED,
            account=accounts.get(attempt.username or ""),
            username=attempt.username or "",
            ip_address=attempt.ip_address,
            detail=_("%(failures)s failed attempts") % {"failures": attempt.failures_since_start},
        )
    AccessAttempt.objects.filter(pk__in=[attempt.pk for attempt in attempts]).delete()
    return len(attempts)


# Roster import ---------------------------------------------------------------


@transaction.atomic
def import_job_create(*, user: User, kind: str, filename: str, content: bytes, idempotency_key: str = "") -> ImportJob:
    """Store the upload and start it: inline when small, on a Celery worker when large.

    The request only runs `estimate_rows` (the zip's directory and, for a small first sheet,
    a count of its rows: no openpyxl); a file the estimate puts above
    ROSTER_IMPORT_INLINE_MAX_ROWS is opened only by the worker, under the parse limits.
    The form's idempotency key makes the same form sent twice return the first import
    (`liaison.services.create_once`); sent twice at once, the second waits for the first
    to commit (an inline import commits with its rows), then returns it.
    """
    return create_once(
        existing=ImportJob.objects.filter(created_by=user).defer("content"),
        key=idempotency_key,
        create=lambda: _import_job_start(
            user=user, kind=kind, filename=filename, content=content, idempotency_key=idempotency_key
        ),
    )


def _import_job_start(*, user: User, kind: str, filename: str, content: bytes, idempotency_key: str) -> ImportJob:
    job = ImportJob(
        kind=kind, filename=filename[:200], content=content, created_by=user, idempotency_key=idempotency_key
    )
    job.full_clean()
    job.save()
    from .tasks import import_roster_task

    # The estimate counts the header and any title rows too.
    if estimate_rows(content) > settings.ROSTER_IMPORT_INLINE_MAX_ROWS + 1:
        job_enqueue(job, import_roster_task)
    else:
        import_job_run(job=job)
    return job


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Validate every row, then write all of them in one transaction, or nothing."""
    if not job_start(job):  # another worker has it, or it already ran
        job.refresh_from_db()
        return job
    try:
        with job_language(job):  # the rows' problems are read by the person who uploaded the file
            return _import_job_run(job)
    except Exception:
        _finish_import(job, problems=[], message=IMPORT_FAILED)
        raise


IMPORT_FAILED = gettext_lazy("The import failed. Nothing was imported; please upload the file again.")


def _import_job_run(job: ImportJob) -> ImportJob:
    manageable = {organisation.code: organisation for organisation in organisation_manageable_list(user=job.created_by)}
    try:
        parsed = parse_roster(kind=job.kind, content=bytes(job.content), manageable=manageable)
    except RosterFileError as error:
        return _finish_import(job, problems=[RowProblem(0, str(error))])
    # Validation is done; the rows are written in one transaction, whose progress the
    # status page reads from the shared cache (`Job.live_progress`).
    job_progress(job, PARSED_PROGRESS)
    job.total_rows = len(parsed.rows) + len({problem.line for problem in parsed.problems})
    if not parsed.is_valid:
        return _finish_import(job, problems=parsed.problems)
    try:
        # The rows and the job's success are committed together: an import that ends
        # "succeeded" wrote every row, and one that did not end wrote none. Imports into one
        # tree write one after another (`_roster_lock`).
        with job_atomic(job):
            _roster_lock(parsed)
            changes = _write_rows(job, parsed)
            job.created_count, job.updated_count = changes.created, changes.updated
            job.changes = changes.as_dict(parsed)
            if not _finish_import(job, problems=[]).is_finished:
                raise JobLost(f"roster import {job.pk} was ended elsewhere while it wrote")  # roll the rows back
    except RowsRejected as rejected:
        # Rules the parser could not see (a person held outside this scope, a record the
        # database refuses): every such row is listed, and nothing is written.
        job.created_count = job.updated_count = 0
        job.changes = {}
        return _finish_import(job, problems=rejected.problems)
    return job


PARSED_PROGRESS = 10
CHANGED_ROWS_SHOWN = 200  # the result page lists this many updated rows; the summary counts them all


def _roster_lock(parsed: ParsedRoster) -> None:
    """Imports into one organisation tree write one at a time, each holding the tree's root row.

    The same file uploaded twice at once (two tabs) would otherwise insert the same people
    twice and the second would fail on their unique ID numbers; waiting, the second finds
    the people the first has just added and updates them instead.
    """
    roots = sorted({root_path(values["organisation"].path) for _line, values in parsed.rows})
    list(Organisation.objects.select_for_update(no_key=True).filter(path__in=roots).order_by("path").values_list("pk"))


def _finish_import(job: ImportJob, *, problems: list[RowProblem], message: str | Promise = "") -> ImportJob:
    """Succeeded when every row was written; failed (nothing written) with the problems, or a message."""
    job.problems = [problem.as_dict() for problem in problems]
    job.content = b""  # the rows now live in the tables; do not keep a second copy of personal data
    also = ("problems", "content", "total_rows", "created_count", "updated_count", "changes")
    if problems or message:
        job_fail(job, message or _("Nothing was imported."), *also)
    else:
        job_succeed(job, *also)
    return job


class RowsRejected(Exception):
    """Rows the database or the scope refused while writing; the whole import is rolled back."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(problems)
        self.problems = problems


class RowRejected(Exception):
    """One row refused while writing (collected into RowsRejected)."""

    def __init__(self, line: int, messages: list[str], column: str = "") -> None:
        super().__init__(line, messages)
        self.line = line
        self.messages = messages
        self.column = column


@dataclass
class ImportChanges:
    """What the import did: rows added, rows whose stored values changed and which fields."""

    created: int = 0
    updated: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, int] = field(default_factory=dict)

    def updated_row(self, line: int, name: str, changed: list[str]) -> None:
        self.updated += 1
        for key in changed:
            self.fields[key] = self.fields.get(key, 0) + 1
        if len(self.rows) < CHANGED_ROWS_SHOWN:
            self.rows.append({"line": line, "name": name, "fields": changed})

    def as_dict(self, parsed: ParsedRoster) -> dict[str, Any]:
        return {"fields": self.fields, "rows": self.rows, "kept": parsed.missing_optional}


# A service's field name → the roster column it comes from (for problems found while writing).
_ARGUMENT_COLUMNS = {"role_codes": "roles", "reason_codes": "reasons"}


def _write_rows(job: ImportJob, parsed: ParsedRoster) -> ImportChanges:
    model = Member if job.kind == ImportJob.Kind.MEMBERS else Contact
    existing = ExistingPeople.load(model, [values for _line, values in parsed.rows])
    scope = get_scope(job.created_by)
    changes = ImportChanges()
    problems: list[RowProblem] = []
    matched: dict[int, int] = {}  # a record's pk → the line that updates it
    total = len(parsed.rows)
    for done, (line, values) in enumerate(parsed.rows, start=1):
        try:
            instance = existing.find(line, values)
            if instance is not None and instance.pk in matched:
                raise RowRejected(line, [_("Same person as line %(line)s.") % {"line": matched[instance.pk]}])
            if instance is not None and not scope.manages(instance.organisation):
                # The person is held outside the importer's scope. The row cannot be imported, and
                # the answer is the one any refused ID number gets (models.ID_NUMBER_UNAVAILABLE, also
                # what the uniqueness check says in the admin or in a race between two imports): it
                # names no organisation and does not say that the person exists.
                raise RowRejected(line, [str(ID_NUMBER_UNAVAILABLE)])
            changed = _save_row(job.kind, line, instance, values)
        except RowRejected as rejected:
            problems.extend(RowProblem(rejected.line, message, rejected.column) for message in rejected.messages)
            continue
        except ValidationError as error:
            problems.extend(_row_problems(line, error, parsed))
            continue
        if instance is None:
            changes.created += 1
        else:
            matched[instance.pk] = line
            if changed:  # a row that matches the record as it stands is not an update
                changes.updated_row(line, values["name"], changed)
        if done % 50 == 0 or done == total:
            job_progress(job, PARSED_PROGRESS + done * (99 - PARSED_PROGRESS) // total)
    if problems:
        raise RowsRejected(problems)
    return changes


def _save_row(kind: str, line: int, instance: Any, values: dict[str, Any]) -> list[str]:
    """Write one row: the columns the file has; the others keep what is stored."""

    def given(key: str) -> Any:
        return values.get(key, KEEP)

    if kind == ImportJob.Kind.MEMBERS:
        _member, changed = member_save(
            member=instance,
            name=values["name"],
            gender=values["gender"],
            organisation=values["organisation"],
            category=values["category"],
            status=values["status"],
            id_number=values["id_number"],
            phone=given("phone"),
            joined_on=given("joined_on"),
            role_codes=given("roles"),
        )
        return changed
    if instance is None and not values.get("id_number") and not values.get("phone"):
        raise RowRejected(line, [_("Give an ID number or a phone number.")])
    kind_value = given("kind")
    if kind_value == "":
        kind_value = ContactKind.PERSON
    _contact, changed = contact_save(
        contact=instance,
        name=values["name"],
        gender=values["gender"],
        organisation=values["organisation"],
        category=values["category"],
        kind=kind_value,
        reason_codes=given("reasons"),
        unit=given("unit"),
        id_number=given("id_number") if values.get("id_number") or instance is None else KEEP,
        phone=given("phone"),
        address=given("address"),
        notes=given("notes"),
    )
    return changed


def _row_problems(line: int, error: ValidationError, parsed: ParsedRoster) -> list[RowProblem]:
    """A model's refusal as problems, each under the file's column for the field it names."""
    if not hasattr(error, "error_dict"):
        return [RowProblem(line, message) for message in error.messages]
    problems: list[RowProblem] = []
    for name, errors in error.message_dict.items():
        key = _ARGUMENT_COLUMNS.get(name, name)
        column = parsed.headers.get(key, "")  # "__all__" (a constraint of the whole record) has none
        problems.extend(RowProblem(line, message, column) for message in errors)
    return problems


@dataclass
class ExistingPeople:
    """The people a file's rows already name, loaded in a few queries whatever the file's size.

    A row finds its person by ID number (normalised: half-width, upper-case X). A contact
    row without one finds its contact by the stable key **(organisation, name key)**: the
    name with its middle dots as one form, without spaces, half-width and case-folded
    (`members.validators.name_key`), so a changed phone or another dot does not make a
    second record. When several contacts of the organisation share that key, the phone
    decides; when it cannot, the row is refused and asks for the ID number.
    """

    by_id_number: dict[str, Any]
    by_name: dict[tuple[int, str], list[Any]]

    @classmethod
    def load(cls, model: type[Member] | type[Contact], rows: list[dict[str, Any]]) -> ExistingPeople:
        queryset = model.objects.select_related("organisation").prefetch_related(
            "roles" if model is Member else "reasons"
        )
        id_numbers = [values["id_number"] for values in rows if values.get("id_number")]
        by_id_number = {
            person.id_number: person for chunk in _chunks(id_numbers) for person in queryset.filter(id_number__in=chunk)
        }
        by_name: dict[tuple[int, str], list[Any]] = {}
        if model is Contact:
            wanted = {(values["organisation"].pk, name_key(values["name"])) for values in rows}
            organisations = sorted({organisation_id for organisation_id, _key in wanted})
            candidates = []
            for chunk in _chunks(organisations):
                for pk, organisation_id, name in Contact.objects.filter(organisation_id__in=chunk).values_list(
                    "pk", "organisation_id", "name"
                ):
                    if (organisation_id, name_key(name)) in wanted:
                        candidates.append(pk)
            for chunk in _chunks(candidates):
                for person in queryset.filter(pk__in=chunk).order_by("pk"):
                    by_name.setdefault((person.organisation_id, name_key(person.name)), []).append(person)
        return cls(by_id_number, by_name)

    def find(self, line: int, values: dict[str, Any]) -> Any:
        """The person a row updates, or None for a new one; RowRejected when it cannot tell."""
        same_name = self.by_name.get((values["organisation"].pk, name_key(values["name"])), [])
        phone = values.get("phone", "")
        if values.get("id_number"):
            person = self.by_id_number.get(values["id_number"])
            if person is None:
                # A row with an ID number completes a record that had none (same name, same phone or the only one).
                without_id = [candidate for candidate in same_name if not candidate.id_number]
                exact = [candidate for candidate in without_id if phone and candidate.phone == phone]
                person = exact[0] if exact else (without_id[0] if len(without_id) == 1 else None)
            return person
        if not same_name:
            return None
        exact = [candidate for candidate in same_name if phone and candidate.phone == phone]
        if exact:
            # Several people may share a name and a phone: prefer the one without an ID number.
            return sorted(exact, key=lambda candidate: bool(candidate.id_number))[0]
        if len(same_name) == 1:
            return same_name[0]  # the phone changed, or the name is spelled with another dot
        raise RowRejected(
            line,
            [
                _(
                    "%(count)s contacts named %(name)s in this organisation; give this row their ID number "
                    "or the phone they are registered with, to say which one."
                )
                % {"count": len(same_name), "name": values["name"]}
            ],
        )


def _chunks(items: list, size: int = 1000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
