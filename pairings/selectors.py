from django.db.models import QuerySet

from members.models import Member, Organisation
from members.scoping import get_scope

from .models import Pairing, PairingStatus, Term


def term_list(*, user) -> QuerySet[Term]:
    """Terms of every tree the user reads in: a term is set on the tree's root."""
    scope = get_scope(user)
    if scope.is_superuser:
        return Term.objects.select_related("organisation")
    roots = {path[: Organisation.steplen] for path in scope.read_paths}
    return Term.objects.filter(organisation__path__in=roots).select_related("organisation")


def active_contact_ids_for_member(*, member: Member) -> QuerySet:
    """A subquery of the contacts this member is actively paired with."""
    return Pairing.objects.filter(member=member, status=PairingStatus.ACTIVE).values("contact_id")
