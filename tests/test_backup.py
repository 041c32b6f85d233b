"""`make backup` / `make restore`: the database, the photos and the exports come back as they were."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from members.models import Contact
from scripts import backup as backup_tool
from tests.conftest import BASE_DIR
from tests.factories import ContactFactory

SCRIPT = BASE_DIR / "scripts" / "backup.py"


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture
def folders(tmp_path, settings):
    """Photos and exports of their own, as PRIVATE_MEDIA_ROOT and EXPORT_ROOT."""
    private, exports = tmp_path / "private", tmp_path / "exports"
    (private / "visits" / "2026" / "10").mkdir(parents=True)
    (private / "visits" / "2026" / "10" / "photo.jpg").write_bytes(b"\xff\xd8 a photo \xff\xd9")
    exports.mkdir()
    (exports / "ledger.xlsx").write_bytes(b"PK a ledger")
    settings.PRIVATE_MEDIA_ROOT, settings.EXPORT_ROOT = str(private), str(exports)
    settings.MEDIA_ROOT = str(tmp_path / "media")  # absent: nothing to keep
    return private, exports


@pytest.mark.postgres
def test_a_backup_restores_the_database_and_the_files_as_they_were(world_committed, folders, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL")
    private, exports = folders
    kept = _files(private)
    contacts = Contact.objects.count()
    folder = backup_tool.backup(tmp_path / "backups")
    assert oct(folder.stat().st_mode & 0o777) == "0o700"  # personal data
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["members_contact"] == contacts
    assert manifest["migrations"]["members"]

    # After the backup: a contact added, one renamed, a photo lost.
    ContactFactory(organisation=world_committed.branch_a, name="备份之后")
    Contact.objects.filter(pk=world_committed.contact_a1.pk).update(name="改过的名字")
    (private / "visits" / "2026" / "10" / "photo.jpg").unlink()

    counts = backup_tool.restore(folder)

    assert counts["members_contact"] == contacts
    assert not Contact.objects.filter(name="备份之后").exists()
    assert Contact.objects.get(pk=world_committed.contact_a1.pk).name == world_committed.contact_a1.name
    assert _files(private) == kept
    assert _files(exports) == {"ledger.xlsx": b"PK a ledger"}


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_embedded_sqlite_database_round_trips_through_the_command_line(tmp_path):
    """The demo's SQLite file, through the same command the Makefile runs."""
    database = tmp_path / "db.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE django_migrations (id integer primary key, app text, name text, applied text)")
        db.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('members', '0001_initial', 'now')")
        db.execute("CREATE TABLE members_contact (id integer primary key, name text)")
        db.executemany("INSERT INTO members_contact (name) VALUES (?)", [("王芳",), ("李强",)])
    private = tmp_path / "private"
    private.mkdir()
    (private / "photo.jpg").write_bytes(b"a photo")
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")},
        "DATABASE_URL": f"sqlite:///{database}",
        "PRIVATE_MEDIA_ROOT": str(private),
        "EXPORT_ROOT": str(tmp_path / "exports"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }

    made = _run("backup", "--to", str(tmp_path / "backups"), env=env)
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip())

    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM members_contact WHERE name = '王芳'")
    (private / "photo.jpg").write_bytes(b"overwritten")

    refused = _run("restore", str(folder), env=env)
    assert refused.returncode != 0 and "--yes-replace" in refused.stderr
    restored = _run("restore", str(folder), "--yes-replace", env=env)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(database) as db:
        assert sorted(name for (name,) in db.execute("SELECT name FROM members_contact")) == ["李强", "王芳"]
    assert (private / "photo.jpg").read_bytes() == b"a photo"


def test_a_restore_refuses_a_backup_of_another_kind_of_database(tmp_path, db):
    folder = tmp_path / "liaison-x"
    folder.mkdir()
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    (folder / "manifest.json").write_text(json.dumps({"vendor": other, "tables": {}, "migrations": {}}))
    with pytest.raises(SystemExit, match="not"):
        backup_tool.restore(folder)
