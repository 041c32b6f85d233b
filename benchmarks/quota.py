"""Time the quota job and the matching job on 10,000 members and 100,000 contacts.

Run on PostgreSQL (the script makes and migrates its own database, `liaison_bench`):

    make bench
    # or: DATABASE_URL=postgres://postgres@127.0.0.1:5432/liaison_bench .venv/bin/python benchmarks/quota.py

It prints the time of each job beside a hand-written SQL aggregate over the same
tables (active pairings per member and contact category), the floor any quota
computation has to pay to read the data.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaison.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liaison_bench")

GENERAL_BRANCHES = 10
BRANCHES_PER_GENERAL = 20
MEMBERS_PER_BRANCH = 50  # 10,000 members
CONTACTS_PER_BRANCH = 500  # 100,000 contacts
PAIRED_SHARE = 0.3  # of contacts already paired before the jobs run
CATEGORIES = ["activist", "staff", "staff", "student", "student", "student", "student", "citizen", "non_party"]


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("Run this benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def timed(label: str, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"{label:<52} {elapsed:8.2f} s")
    return result, elapsed


def build() -> tuple:
    from members.models import Contact, Member, OrganisationKind
    from members.services import organisation_create
    from members.validators import id_number_check_char
    from pairings.models import Pairing, TermKind
    from pairings.services import term_create

    committee = organisation_create(name="基准党委", code="BENCH", kind=OrganisationKind.COMMITTEE)
    branches = []
    for g in range(GENERAL_BRANCHES):
        general = organisation_create(
            name=f"第{g}党总支", code=f"G{g:02d}", kind=OrganisationKind.GENERAL_BRANCH, parent=committee
        )
        for b in range(BRANCHES_PER_GENERAL):
            branches.append(
                organisation_create(
                    name=f"第{g}-{b}党支部", code=f"G{g:02d}B{b:02d}", kind=OrganisationKind.BRANCH, parent=general
                )
            )
    term = term_create(
        organisation=committee,
        name="基准学期",
        kind=TermKind.SEMESTER,
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 1, 20),
        is_current=True,
    )

    members, contacts = [], []
    serial = 0
    for branch in branches:
        for m in range(MEMBERS_PER_BRANCH):
            serial += 1
            first17 = f"{110101 + serial // 1000:06d}19900101{serial % 1000:03d}"
            members.append(
                Member(
                    name=f"党员{serial}",
                    gender="male",
                    organisation=branch,
                    category="faculty" if m % 3 else "student",
                    status="full",
                    id_number=first17 + id_number_check_char(first17),
                )
            )
        for c in range(CONTACTS_PER_BRANCH):
            serial += 1
            contacts.append(
                Contact(
                    name=f"群众{serial}",
                    gender="female",
                    organisation=branch,
                    category=CATEGORIES[c % len(CATEGORIES)],
                    phone=f"13{serial:09d}",
                )
            )
    Member.objects.bulk_create(members, batch_size=5000)
    Contact.objects.bulk_create(contacts, batch_size=5000)

    # Pair a share of each branch's contacts with its members, round-robin.
    member_ids: dict[int, list[int]] = {}
    for member_id, organisation_id in Member.objects.values_list("id", "organisation_id").order_by("id"):
        member_ids.setdefault(organisation_id, []).append(member_id)
    pairings = []
    for index, (contact_id, organisation_id) in enumerate(
        Contact.objects.values_list("id", "organisation_id").order_by("id")
    ):
        if index % 10 < PAIRED_SHARE * 10:
            branch_members = member_ids[organisation_id]
            pairings.append(
                Pairing(
                    member_id=branch_members[index % len(branch_members)],
                    contact_id=contact_id,
                    term=term,
                    started_on=term.starts_on,
                )
            )
    Pairing.objects.bulk_create(pairings, batch_size=5000)
    return committee, term, len(members), len(contacts), len(pairings)


SQL_FLOOR = """
SELECT p.member_id, c.category, COUNT(*)
FROM pairings_pairing p
JOIN members_contact c ON c.id = p.contact_id
JOIN members_member m ON m.id = p.member_id
JOIN members_organisation o ON o.id = m.organisation_id
WHERE p.term_id = %s AND p.status = 'active' AND o.path LIKE %s
GROUP BY p.member_id, c.category
"""


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from pairings.models import MatchingRun, QuotaStatus
    from pairings.services import matching_run_compute, quota_compute

    call_command("migrate", verbosity=0)
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, database {connection.settings_dict['NAME']}"
    )
    (committee, term, members, contacts, pairings), _ = timed("build data", build)
    print(f"{members:,} members, {contacts:,} contacts, {pairings:,} active pairings")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def sql_floor():
        with connection.cursor() as cursor:
            cursor.execute(SQL_FLOOR, [term.pk, committee.path + "%"])
            return len(cursor.fetchall())

    sql_floor()  # warm the cache for a fair comparison
    _rows, floor = timed("floor: one SQL aggregate of pairings", sql_floor)
    statuses, quota = timed(
        "quota job (quota_compute, whole committee)", quota_compute, term=term, organisation=committee
    )
    short = QuotaStatus.objects.filter(term=term, shortfall__gt=0).count()
    print(f"  {statuses:,} statuses stored, {short:,} short of quota; {quota / floor:.1f}x the floor")

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("bench", password=None)
    run = MatchingRun.objects.create(term=term, organisation=committee, created_by=user)
    _run, matching = timed("matching job (quota refresh + proposal)", matching_run_compute, run=run)
    proposals = run.proposals.count()
    print(f"  {proposals:,} pairings proposed; {matching / floor:.1f}x the floor")


if __name__ == "__main__":
    main()
