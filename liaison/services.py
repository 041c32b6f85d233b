"""Writes every app shares (HackSoft's `common/services.py`). No app is imported here."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

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
