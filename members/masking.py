"""Personal data: which fields hold it, and their masked renderings for everyone not entitled.

`MASKED_FIELDS` is the one declaration of the personal data DOMAIN.md calls sensitive; the
admin's masks (liaison.admin.SensitiveFieldsMixin), the access log's `fields` column and the
history pages read it. `UNPROBEABLE_FIELDS` adds what must never be a query key either: no
query string of the admin or of a page may filter, search or sort by any of them, at any
depth of a lookup (`pairing__contact__phone__startswith` included), or a masked value could
be rebuilt one character at a time (issue 11, finding 1).
"""

from collections.abc import Callable

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

# Masked unless the reader is entitled (members.selectors.contact_is_entitled / member_is_entitled).
MASKED_FIELDS: dict[str, tuple[str, ...]] = {
    "members.Member": ("phone", "id_number"),
    "members.Contact": ("phone", "id_number", "address"),
}

# Never a filter, search or sort key. Besides the masked fields: a contact's notes, the free
# text where a hardship's detail is written (shown to whoever may read the contact, but a
# lookup through a relation would let others search it), and a login's password hash.
# The hardship *tags* (Contact.reasons) stay a declared filter of the contact lists, which
# show them on every row; a lookup that reaches them through another model is refused
# like any lookup no list offers.
UNPROBEABLE_FIELDS: dict[str, tuple[str, ...]] = {
    **MASKED_FIELDS,
    "members.Contact": (*MASKED_FIELDS["members.Contact"], "notes"),
    "auth.User": ("password",),
}


def mask_phone(phone: str) -> str:
    """138****5678: keep the first three and the last four digits."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    """110***********1234: keep the region prefix and the last four characters."""
    if not id_number:
        return ""
    if len(id_number) <= 7:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_address(address: str) -> str:
    """Keep the first six characters (city, district), hide the rest."""
    if not address:
        return ""
    keep = min(6, len(address) // 2)
    return address[:keep] + "****"


MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "address": mask_address,
}


def mask(field_name: str, value: object) -> str:
    """The masked rendering of one masked field's value (history pages show old values too)."""
    return MASKS[field_name]("" if value is None else str(value))


def _label(model: type[models.Model]) -> str:
    # A historical model (django-simple-history) holds the same personal data as its model.
    return getattr(model, "instance_type", model)._meta.label


def masked_fields(model: type[models.Model]) -> tuple[str, ...]:
    return MASKED_FIELDS.get(_label(model), ())


def unprobeable_fields(model: type[models.Model]) -> tuple[str, ...]:
    return UNPROBEABLE_FIELDS.get(_label(model), ())


def path_is_unprobeable(model: type[models.Model], path: str) -> bool:
    """Whether a lookup, ordering or search path touches an unprobeable field at any step.

    `path` is what a query string names (`contact__phone__startswith`, `-member__id_number`,
    `pairing__contact__address__icontains`); the walk follows relations, forward and
    reverse, until a part is no field (a lookup or a transform).
    """
    for part in path.lstrip("-").split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.name in unprobeable_fields(model):
            return True
        related = field.related_model if field.is_relation else None
        if related is None or isinstance(related, str):
            return False
        model = related
    return False
