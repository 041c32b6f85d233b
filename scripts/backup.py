"""Back up and restore everything Liaison keeps: the database, the visit photos and the exports.

    python scripts/backup.py backup [--to backups/]          # a new folder liaison-<when>/
    python scripts/backup.py restore FOLDER --yes-replace     # replaces the database and files

It reads the same settings as the site (DATABASE_URL, PRIVATE_MEDIA_ROOT, EXPORT_ROOT,
MEDIA_ROOT), so run it with the environment of the web process. PostgreSQL goes through
`pg_dump --format=custom` and `pg_restore --clean` (the client tools of the server's
major version); SQLite through its online backup API. A backup folder holds:

    database.dump | database.sqlite3    the database
    private.tar.gz                      PRIVATE_MEDIA_ROOT (visit photos: personal data)
    exports.tar.gz, media.tar.gz        EXPORT_ROOT and MEDIA_ROOT, when they exist
    manifest.json                       when, which database, the latest migration of each app,
                                        and the row count of each table, checked after a restore

Backups hold personal data in full: keep them encrypted and access-controlled like the
database itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DIRECTORIES = {"private": "PRIVATE_MEDIA_ROOT", "exports": "EXPORT_ROOT", "media": "MEDIA_ROOT"}


def _setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaison.settings")
    import django

    django.setup()


def _database() -> dict[str, Any]:
    from django.conf import settings

    return settings.DATABASES["default"]


def _pg_env(database: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes through the environment."""
    options = ["--dbname", database["NAME"]]
    if database.get("HOST"):
        options += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        options += ["--port", str(database["PORT"])]
    if database.get("USER"):
        options += ["--username", str(database["USER"])]
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return options, env


def _table_counts(cursor: Any, tables: list[str], quote: Any) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _current_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        return _table_counts(cursor, connection.introspection.table_names(), connection.ops.quote_name)


def _sqlite_counts(path: Path) -> dict[str, int]:
    copy = sqlite3.connect(path)
    try:
        tables = [row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return _table_counts(copy.cursor(), [t for t in tables if not t.startswith("sqlite_")], lambda t: f'"{t}"')
    finally:
        copy.close()


def _migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"):
        latest[app] = name
    return latest


def backup(target_root: Path) -> Path:
    from django.conf import settings
    from django.db import connection, transaction

    database = _database()
    when = datetime.now(UTC)
    folder = target_root / f"liaison-{when:%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True)
    folder.chmod(0o700)  # personal data
    if connection.vendor == "postgresql":
        # The dump and the row counts come from one snapshot, so the restore can check them.
        options, env = _pg_env(database)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = _table_counts(cursor, connection.introspection.table_names(cursor), connection.ops.quote_name)
            dump = folder / "database.dump"
            subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", "--file", str(dump), *options],
                check=True,
                env=env,
            )
    elif connection.vendor == "sqlite":
        source = sqlite3.connect(database["NAME"])
        copy = sqlite3.connect(folder / "database.sqlite3")
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
        tables = _sqlite_counts(folder / "database.sqlite3")
    else:
        raise SystemExit(f"No backup for a {connection.vendor} database.")
    for name, setting in DIRECTORIES.items():
        directory = Path(getattr(settings, setting))
        if directory.is_dir():
            with tarfile.open(folder / f"{name}.tar.gz", "w:gz") as archive:
                archive.add(directory, arcname=".")
    manifest = {
        "created_at": when.isoformat(),
        "vendor": connection.vendor,
        "migrations": _migrations(),
        "tables": tables,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder


def _extract(archive_path: Path, directory: Path) -> None:
    """Replace the directory's content with the archive's; no member may leave the directory."""
    staging = directory.with_name(directory.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(staging, filter="data")
    if directory.exists():
        shutil.rmtree(directory)
    staging.rename(directory)


def restore(folder: Path) -> dict[str, int]:
    from django.conf import settings
    from django.db import connection

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest["vendor"] != connection.vendor:
        raise SystemExit(f"This backup is of a {manifest['vendor']} database, not {connection.vendor}.")
    database = _database()
    connection.close()
    if connection.vendor == "postgresql":
        options, env = _pg_env(database)
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *options,
                str(folder / "database.dump"),
            ],
            check=True,
            env=env,
        )
    else:
        source = sqlite3.connect(folder / "database.sqlite3")
        target = sqlite3.connect(database["NAME"])
        with target:
            source.backup(target)
        source.close()
        target.close()
    for name, setting in DIRECTORIES.items():
        archive = folder / f"{name}.tar.gz"
        if archive.exists():
            _extract(archive, Path(getattr(settings, setting)))
    counts = _current_counts()
    differing = {
        table: (count, counts.get(table)) for table, count in manifest["tables"].items() if counts.get(table) != count
    }
    if differing:
        raise SystemExit(f"Restored, but these tables do not match the backup (backup, now): {differing}")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write a new backup folder")
    make.add_argument("--to", type=Path, default=BASE_DIR / "backups", help="where the folder is made")
    back = commands.add_parser("restore", help="replace the database and files with a backup")
    back.add_argument("folder", type=Path)
    back.add_argument("--yes-replace", action="store_true", help="confirm that the current data is replaced")
    args = parser.parse_args(argv)
    _setup()
    if args.command == "backup":
        print(backup(args.to))
    else:
        if not args.yes_replace:
            raise SystemExit("Restoring replaces the database and the files: add --yes-replace to go on.")
        counts = restore(args.folder)
        print(f"Restored {args.folder}: {len(counts)} tables, {sum(counts.values())} rows, as in its manifest.")


if __name__ == "__main__":
    main()
