"""Writes for pledges (承诺), service posts (设岗定责) and community registration (报到).

A pledge moves pledged → made public → (progress entries) → reported → evaluated. The
member runs their own pledges up to the report; a manager of the member's organisation
evaluates. Posts are defined by managers and claimed by members for themselves.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liaison.paths import ancestor_paths
from liaison.services import version_claim
from members.models import Member, MemberCategory, Organisation
from members.scoping import get_scope
from members.selectors import ReviewRefusal, review_refusal

from .models import CommunityRegistration, Pledge, PledgeProgress, PledgeRating, PledgeState, PostClaim, ServicePost

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# "Members able to do so pledge one or two concrete things for the public each year."
MAX_PLEDGES_PER_YEAR = 2


def _is_self(*, member: Member, by: User) -> bool:
    return member.user_id is not None and member.user_id == by.pk


def _require_self(*, member: Member, by: User) -> None:
    if not _is_self(member=member, by=by):
        raise PermissionDenied(_("Members manage only their own pledges and posts."))


def _require_self_or_manager(*, member: Member, by: User, message: str) -> None:
    if not _is_self(member=member, by=by) and not get_scope(by).manages(member.organisation):
        raise PermissionDenied(message)


def _locked(pledge: Pledge, expected_version: int | None = None, *, step: bool = True) -> Pledge:
    """The pledge's row, locked until the transaction ends, so two steps cannot cross.

    A step (make public, report, evaluate) also claims the next version: opened on an older
    one (the pledge moved on since the page was opened), it is refused (`StaleEdit`).
    """
    locked = Pledge.objects.select_for_update().select_related("member__organisation").get(pk=pledge.pk)
    if step:
        version_claim(locked, expected_version)
    return locked


def _require_state(pledge: Pledge, expected: str, message: str) -> None:
    if pledge.state != expected:
        raise ValidationError(message % {"state": PledgeState(pledge.state).label})


# Pledges -----------------------------------------------------------------------


@transaction.atomic
def pledge_create(
    *, member: Member, by: User, year: int, title: str, description: str = "", idempotency_key: str = ""
) -> Pledge:
    """A member pledges something for the year: at most two pledges a year.

    The form's idempotency key makes a second post of the same form return the first pledge
    (the member's row is locked first, so one sent twice at once finds the first once it commits).
    """
    _require_self(member=member, by=by)
    # Lock the member so two pledges sent at once cannot both pass the yearly limit.
    Member.objects.select_for_update().filter(pk=member.pk).first()
    existing = Pledge.objects.filter(member=member)
    if idempotency_key and (found := existing.filter(idempotency_key=idempotency_key).first()) is not None:
        return found
    if Pledge.objects.filter(member=member, year=year).count() >= MAX_PLEDGES_PER_YEAR:
        raise ValidationError(
            _("You already have %(count)s pledges for %(year)s: one or two concrete things a year is the rule.")
            % {"count": MAX_PLEDGES_PER_YEAR, "year": year}
        )
    pledge = Pledge(
        member=member, year=year, title=title.strip(), description=description.strip(), idempotency_key=idempotency_key
    )
    pledge.full_clean()
    pledge.save()
    return pledge


@transaction.atomic
def pledge_make_public(
    *, pledge: Pledge, by: User, made_public_on: date | None = None, expected_version: int | None = None
) -> Pledge:
    """亮诺: the pledge is shown to the public from this day."""
    _require_self(member=pledge.member, by=by)
    pledge = _locked(pledge, expected_version)
    _require_state(pledge, PledgeState.PLEDGED, _("Only a new pledge can be made public; this one is %(state)s."))
    made_public_on = made_public_on or timezone.localdate()
    if made_public_on > timezone.localdate():
        raise ValidationError({"made_public_on": _("A pledge cannot be made public in the future.")})
    pledge.state = PledgeState.PUBLIC
    pledge.made_public_on = made_public_on
    pledge.full_clean()
    pledge.save(update_fields=["state", "made_public_on"])
    return pledge


@transaction.atomic
def pledge_progress_add(*, pledge: Pledge, by: User, happened_on: date, note: str) -> PledgeProgress:
    """践诺: what was done, while the pledge is public and not yet reported."""
    _require_self(member=pledge.member, by=by)
    pledge = _locked(pledge, step=False)  # an entry is added; the pledge itself does not change
    _require_state(
        pledge, PledgeState.PUBLIC, _("Progress is recorded while a pledge is public; this one is %(state)s.")
    )
    if happened_on > timezone.localdate():
        raise ValidationError({"happened_on": _("Progress cannot be recorded for a day in the future.")})
    if pledge.made_public_on and happened_on < pledge.made_public_on:
        raise ValidationError({"happened_on": _("Progress cannot come before the pledge was made public.")})
    progress = PledgeProgress(pledge=pledge, happened_on=happened_on, note=note.strip())
    progress.full_clean()
    progress.save()
    return progress


@transaction.atomic
def pledge_report(*, pledge: Pledge, by: User, report: str, expected_version: int | None = None) -> Pledge:
    """述诺: the member reports how the pledge was kept."""
    _require_self(member=pledge.member, by=by)
    pledge = _locked(pledge, expected_version)
    _require_state(pledge, PledgeState.PUBLIC, _("Only a public pledge can be reported on; this one is %(state)s."))
    if not report.strip():
        raise ValidationError({"report": _("Write how the pledge was kept.")})
    pledge.state = PledgeState.REPORTED
    pledge.report = report.strip()
    pledge.full_clean()
    pledge.save(update_fields=["state", "report"])
    return pledge


def pledge_evaluate_refusal(*, pledge: Pledge, by: User) -> str | None:
    """Why `by` may not rate this pledge (None when they may): no one rates their own.

    A manager of the member's organisation rates it; a secretary's own pledge is rated by
    the level above (members.selectors.review_refusal).
    """
    refusal = review_refusal(user=by, member=pledge.member, organisation=pledge.member.organisation)
    if refusal is None:
        return None
    if refusal is ReviewRefusal.OWN_WORK:
        return _("You cannot evaluate your own pledge.")
    if refusal is ReviewRefusal.NEEDS_LEVEL_ABOVE:
        return _(
            "This member runs the organisation: their pledge is evaluated by the level above "
            "(the secretary or an administrator of the organisation above)."
        )
    return _("Only the secretary of the member's organisation evaluates a pledge.")


@transaction.atomic
def pledge_evaluate(
    *, pledge: Pledge, by: User, rating: str, evaluation: str = "", expected_version: int | None = None
) -> Pledge:
    """评诺: a manager of the member's organisation rates the reported pledge."""
    refusal = pledge_evaluate_refusal(pledge=pledge, by=by)
    if refusal is not None:
        raise PermissionDenied(refusal)
    pledge = _locked(pledge, expected_version)
    _require_state(pledge, PledgeState.REPORTED, _("Only a reported pledge can be evaluated; this one is %(state)s."))
    if rating not in PledgeRating.values:
        raise ValidationError({"rating": _("Choose a rating.")})
    pledge.state = PledgeState.EVALUATED
    pledge.rating = rating
    pledge.evaluation = evaluation.strip()
    pledge.evaluated_by = by
    pledge.full_clean()
    pledge.save(update_fields=["state", "rating", "evaluation", "evaluated_by"])
    return pledge


# Service posts -----------------------------------------------------------------


def line_paths(organisation: Organisation) -> list[str]:
    """The paths of the organisation and every organisation above it: where its members' posts come from."""
    return ancestor_paths(organisation.path, include_self=True)


@transaction.atomic
def service_post_create(
    *, organisation: Organisation, by: User, title: str, duties: str = "", places: int = 1, is_open: bool = True
) -> ServicePost:
    if not get_scope(by).manages(organisation):
        raise PermissionDenied(_("You can only define posts for organisations you run."))
    post = ServicePost(
        organisation=organisation, title=title.strip(), duties=duties.strip(), places=places, is_open=is_open
    )
    post.full_clean()
    post.save()
    return post


@transaction.atomic
def service_post_set_open(*, post: ServicePost, by: User, is_open: bool) -> ServicePost:
    if not get_scope(by).manages(post.organisation):
        raise PermissionDenied(_("You can only change posts of organisations you run."))
    post.is_open = is_open
    post.save(update_fields=["is_open"])
    return post


@transaction.atomic
def post_claim(*, post: ServicePost, member: Member, by: User, claimed_on: date | None = None) -> PostClaim:
    """认领岗位: a member claims a post of their organisation or one above it, while places remain."""
    _require_self(member=member, by=by)
    # Lock the post so two members cannot both take its last place.
    post = ServicePost.objects.select_for_update().select_related("organisation").get(pk=post.pk)
    if post.organisation.path not in line_paths(member.organisation):
        raise ValidationError(_("This post belongs to another organisation."))
    if not post.is_open:
        raise ValidationError(_("The post “%(post)s” is closed for claiming.") % {"post": post.title})
    active = PostClaim.objects.filter(post=post, released_on__isnull=True)
    if active.filter(member=member).exists():
        raise ValidationError(_("You have already claimed the post “%(post)s”.") % {"post": post.title})
    if active.count() >= post.places:
        raise ValidationError(_("Every place of the post “%(post)s” is taken.") % {"post": post.title})
    claim = PostClaim(post=post, member=member, claimed_on=claimed_on or timezone.localdate())
    claim.full_clean()
    claim.save()
    return claim


@transaction.atomic
def post_release(*, claim: PostClaim, by: User, released_on: date | None = None) -> PostClaim:
    """The member gives the post up (or their secretary records it); the place is free again."""
    _require_self_or_manager(
        member=claim.member, by=by, message=_("Only the member or their secretary can release a claimed post.")
    )
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.released_on is not None:
        raise ValidationError(_("This post has already been released."))
    claim.released_on = released_on or timezone.localdate()
    if claim.released_on < claim.claimed_on:
        raise ValidationError({"released_on": _("A post cannot be released before it was claimed.")})
    claim.full_clean()
    claim.save(update_fields=["released_on"])
    return claim


# Community registration ------------------------------------------------------------


def community_registration_validate(*, member: Member, community: Organisation, registered_on: date) -> None:
    """Every rule a registration must meet; raises a translated ValidationError."""
    if member.category != MemberCategory.IN_SERVICE:
        raise ValidationError(
            _("Only in-service members report to a residential community; %(member)s is not one.")
            % {"member": member.name}
        )
    if CommunityRegistration.objects.filter(member=member).exists():
        raise ValidationError(_("%(member)s has already reported to a community.") % {"member": member.name})
    if registered_on > timezone.localdate():
        raise ValidationError({"registered_on": _("A registration cannot be dated in the future.")})


@transaction.atomic
def community_register(
    *, member: Member, community: Organisation, registered_on: date, by: User
) -> CommunityRegistration:
    """到社区报到: an in-service member reports to a residential community (themselves or via their secretary)."""
    _require_self_or_manager(
        member=member, by=by, message=_("Only the member or their secretary can record a community registration.")
    )
    Member.objects.select_for_update().filter(pk=member.pk).first()
    community_registration_validate(member=member, community=community, registered_on=registered_on)
    registration = CommunityRegistration(member=member, community=community, registered_on=registered_on)
    registration.full_clean()
    registration.save()
    return registration
