"""Writes every app shares (HackSoft's `common/services.py`). No app is imported here."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

ModelT = TypeVar("ModelT", bound=models.Model)


def model_update(
    *,
    instance: ModelT,
    fields: Iterable[str],
    data: Mapping[str, Any],
    clean_exclude: Collection[str] = (),
) -> tuple[ModelT, bool]:
    """Set the allowed `fields` whose value in `data` differs, validate, save only those.

    Fields absent from `data` are left alone. The instance is validated (`full_clean`) even
    when nothing differs, so an update never lets an invalid record through; it is saved
    only when something changed, with `update_fields` naming what did (and the model's
    `auto_now` fields, such as `updated_at`). Returns the instance and whether it was saved.
    """
    changed = [name for name in fields if name in data and getattr(instance, name) != data[name]]
    for name in changed:
        setattr(instance, name, data[name])
    instance.full_clean(exclude=list(clean_exclude) or None)
    if changed:
        stamps = [
            field.name
            for field in instance._meta.concrete_fields
            if getattr(field, "auto_now", False) and field.name not in changed
        ]
        instance.save(update_fields=[*changed, *stamps])
    return instance, bool(changed)


def create_once(*, existing: models.QuerySet[ModelT], key: str, create: Callable[[], ModelT]) -> ModelT:
    """Make an object once per idempotency key: a second post of the same form returns the first object.

    `existing` holds the objects the same person made (e.g. `Visit.objects.filter(created_by=user)`),
    whose `idempotency_key` is unique per person in the database; `create` makes the object and
    everything that goes with it, storing `key`. Sent twice in a row, the second call finds the
    first object. Sent twice at once, both create; the database refuses the second insert when
    the first commits (the unique constraint), its savepoint is rolled back, and it returns the
    first object. Without a key, `create` is simply called.
    """
    if not key:
        return create()
    found = existing.filter(idempotency_key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return create()
    except (IntegrityError, ValidationError):
        # The other post committed first (its row is now seen), or this one was refused for its
        # own reasons (then nothing is found and the error goes on to the form).
        found = existing.filter(idempotency_key=key).first()
        if found is None:
            raise
        return found


def stale_edit_message(instance: models.Model) -> str:
    return _(
        "This %(thing)s was changed after you opened this page, so your changes were not saved. "
        "They are kept here: check the %(thing)s as it is now, then send them again."
    ) % {"thing": instance._meta.verbose_name}


class StaleEdit(ValidationError):
    """The row changed since the form was opened: the edit is refused, the form is shown again."""

    def __init__(self, instance: models.Model) -> None:
        super().__init__(stale_edit_message(instance), code="stale")


def version_claim(instance: models.Model, expected: int | None) -> None:
    """Claim an edit of `instance`: `UPDATE … SET version = version + 1 WHERE id = … AND version = expected`.

    Raises `StaleEdit` when the row's version is no longer the one the form was opened on
    (someone saved in between). The updated row stays locked until the transaction ends,
    so of two edits sent at once the second waits, then finds the version moved on and is
    refused: never last-write-wins. With `expected` None (a caller with no form), the
    version is bumped without a check. Call it inside the edit's transaction, before
    writing; the instance's `version` is set to the new value.
    """
    rows = type(instance)._default_manager.filter(pk=instance.pk)
    if expected is not None:
        rows = rows.filter(version=expected)
    if rows.update(version=F("version") + 1) != 1:
        raise StaleEdit(instance)
    if expected is None:
        expected = type(instance)._default_manager.values_list("version", flat=True).get(pk=instance.pk) - 1
    setattr(instance, "version", expected + 1)  # noqa: B010  # every versioned model has the field
