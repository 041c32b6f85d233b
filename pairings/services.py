"""Writes for terms and pairings. Quotas and matching arrive with the pairings issue."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from members.models import Contact, Member, Organisation

from .models import Pairing, Term


@transaction.atomic
def term_create(
    *, organisation: Organisation, name: str, kind: str, starts_on: date, ends_on: date, is_current: bool = False
) -> Term:
    if is_current:
        Term.objects.filter(organisation=organisation, is_current=True).update(is_current=False)
    term = Term(
        organisation=organisation, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on, is_current=is_current
    )
    term.full_clean()
    term.save()
    return term


@transaction.atomic
def pairing_create(*, member: Member, contact: Contact, term: Term, started_on: date, theme: str = "") -> Pairing:
    pairing = Pairing(member=member, contact=contact, term=term, started_on=started_on, theme=theme)
    pairing.full_clean()
    pairing.save()
    return pairing
