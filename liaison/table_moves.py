"""Moving models from one app to another without copying rows, for the migrations that do it.

The moving app's `0001_initial` creates the models in the migration state only
(`SeparateDatabaseAndState`) and runs `move_tables(...)`: the existing tables are renamed
to the new app's names (`ALTER TABLE ... RENAME TO`, SQLite and PostgreSQL alike) and their
content types relabelled, so permissions, admin log entries and history keep pointing at
them and Django creates no duplicates. The old app then drops the models from its state
only. Self-contained on purpose: migrations must not depend on how the models read today.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import migrations

CONTENT_TYPES_DEPENDENCY = ("contenttypes", "0002_remove_content_type_name")


def _relabel(apps: Any, alias: str, models: list[str], old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.db_manager(alias)
    for model in models:
        if content_types.filter(app_label=new_label, model=model).exists():
            continue  # already there (a new database: post_migrate has not run yet, nothing to move)
        content_types.filter(app_label=old_label, model=model).update(app_label=new_label)
    ContentType.objects.clear_cache()


def move_tables(*, old_label: str, new_label: str, models: list[str]) -> migrations.RunPython:
    """Rename `<old_label>_<model>` to `<new_label>_<model>` for each model name, and its content type.

    `models` are lower-case model names, historical ones (django-simple-history) included.
    """

    def run(old: str, new: str) -> Callable[[Any, Any], None]:
        def rename(apps: Any, schema_editor: Any) -> None:
            for model in models:
                schema_editor.alter_db_table(None, f"{old}_{model}", f"{new}_{model}")
            _relabel(apps, schema_editor.connection.alias, models, old, new)

        return rename

    return migrations.RunPython(run(old_label, new_label), run(new_label, old_label))
