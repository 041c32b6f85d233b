"""Time the visit ledger (台账) export on 1,000,000 visits against raw openpyxl writing the same rows.

Run on PostgreSQL (the script makes and migrates its own database, `liaison_bench_export`):

    make bench-export
    # or: DATABASE_URL=postgres://postgres@127.0.0.1:5432/liaison_bench_export .venv/bin/python benchmarks/export.py
    # quick try:          ... benchmarks/export.py --rows 20000
    # keep the database:  ... benchmarks/export.py --reuse   (rebuilds only if the visit count differs)

It builds 2,000 members, 20,000 contacts and 20,000 pairings with the ORM, then the visits
(and help given for about 1 visit in 8) with `INSERT ... SELECT ... FROM generate_series`.
Each measurement then runs in a fresh child process, so its peak memory is its own:

- ledger: `write_visit_ledger(Workbook(write_only=True), Visit.objects.order_by("happened_on", "id"))`
  and `workbook.save()`, timed as a whole (query + rows + XML + zip);
- floor:  the same 16 values per row, loaded beforehand (not timed) as plain lists, then
  written with raw openpyxl (`ws.append(row)` on a write-only sheet) and saved. What the
  rows themselves take in memory is reported on its own line.

Peak memory is the peak resident set size (VmHWM, reset with /proc/self/clear_refs where
Linux allows it; `ru_maxrss` elsewhere) minus the resident size right after setup. Plain
`ru_maxrss` is not used on Linux because an exec'd child inherits its parent's high-water
mark there. `--profile` prints the top functions of each timed section (cProfile).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaison.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liaison_bench_export")

DEFAULT_ROWS = 1_000_000
GENERAL_BRANCHES = 4
BRANCHES_PER_GENERAL = 10
MEMBERS_PER_BRANCH = 50  # 2,000 members
CONTACTS_PER_BRANCH = 500  # 20,000 contacts, each paired with one member of its branch
TERM_START, TERM_DAYS = date(2026, 9, 1), 142
INSERT_BATCH = 250_000
CATEGORIES = ["activist", "staff", "staff", "student", "student", "student", "student", "citizen", "non_party"]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲建国志文斌宇浩然子涵欣怡梓轩雨桐思远佳琪")

PLACES = [
    "家中",
    "学生宿舍3号楼412室",
    "社区党群服务中心",
    "图书馆二楼研讨室",
    "第二食堂",
    "线上（微信视频）",
    "村委会办公室",
    "教学楼A座205",
    "辅导员办公室",
    "小区凉亭",
    "校医院门诊楼前",
    "联系对象工作单位会议室",
    "街道便民服务站",
    "实验室",
    "操场看台",
    "社区老年活动室",
]
DISCUSSED = [
    "了解家庭近况，询问生活上有无困难。",
    "宣讲学校最新的资助政策和申请流程，提醒按时提交材料。",
    "谈心谈话，关注学业压力和心理状态，鼓励劳逸结合。",
    "听取对社区环境整治工作的意见建议。",
    "介绍就业创业扶持政策，鼓励积极参加校园招聘会和实习。",
    "了解老人身体状况，提醒按时体检、按医嘱服药。",
    "交流思想动态，鼓励其继续向党组织靠拢，按时提交思想汇报。",
    "反映小区停车难问题，已记录并承诺向街道和物业反映。",
    "共同学习党的二十大精神，结合专业谈体会。",
    "询问孩子上学情况，介绍教育资助和课后托管政策。",
    "了解其对食堂饭菜价格和质量的意见。",
    "讲解城乡居民医疗保险缴费和报销办法。",
    "帮助梳理毕业论文进度，约定下周再次跟进。",
    "对方情绪较为低落，耐心倾听，约定保持联系。",
    "宣传防范电信网络诈骗知识，提醒不要轻信陌生来电。",
    "了解冬季取暖情况，检查家中用电用气安全。",
    "征求对学院教学管理工作的意见，对方提出实验课时偏少。",
    "介绍勤工助学岗位申请条件，对方表示愿意报名。",
    "走访中得知家中老人近期住院，表达关心并了解医疗费用负担。",
    "讨论参加志愿服务活动的安排。",
    "对方对宿舍维修响应慢有意见，已转宿管中心。",
    "一起回顾本学期学习计划执行情况，成绩有所提高。",
    "了解就业意向，推荐了两家用人单位的招聘信息。",
    "对方提出希望开设更多体育活动场地开放时间。",
]
VIEWS = [
    "希望增加自习室开放时间。",
    "建议食堂增加清真窗口。",
    "反映楼道照明损坏，夜间出行不便。",
    "希望简化助学金申请材料。",
    "建议社区增设老年人助餐点。",
    "希望学院多组织就业指导讲座。",
    "对小区垃圾分类设施位置有意见，希望调整。",
    "希望在申请入党过程中得到更多指导。",
]
FOLLOW_UPS = [
    "下周协调宿管中心上门维修。",
    "向学院学工办反映，两周内答复。",
    "联系街道民政科了解临时救助政策。",
    "- 一个月后回访了解落实情况",  # a leading "-": the ledger's formula guard has to run
    "协助准备助学金申请材料。",
    "推荐参加心理中心团体辅导。",
]
SITUATIONS = ["sentiment", "opinion", "security", "disaster", "other"]
SITUATION_DETAILS = [
    "部分住户对物业费上涨有较大意见，情绪激动。",
    "网上流传关于食堂涨价的不实信息，学生议论较多。",
    "小区围墙出现裂缝，存在安全隐患。",
    "连续降雨导致村道部分路段积水。",
]
GOODS = ["米面油一份", "冬季棉被一床", "学习用品一套", "慰问品（牛奶、水果）", "电暖器一台"]
POLICIES = ["讲解医保报销政策", "讲解国家助学贷款政策", "讲解临时救助申请办法", ""]


def ensure_database(*, keep: bool) -> bool:
    """Create the database, dropping any old one unless `keep`; return whether it already existed."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("Run this benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return True
        if exists:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return False


def chinese_name(serial: int) -> str:
    given = GIVEN[(serial * 7) % len(GIVEN)]
    if serial % 3:
        given += GIVEN[(serial * 13 + 5) % len(GIVEN)]
    return SURNAMES[(serial * 31) % len(SURNAMES)] + given


# Build ----------------------------------------------------------------------------------------


def build_people() -> tuple[int, int, int]:
    """Organisations with the services, then members, contacts and pairings with bulk_create."""
    from members.models import Contact, Member, OrganisationKind
    from members.services import organisation_create
    from members.validators import id_number_check_char
    from pairings.models import Pairing, TermKind
    from pairings.services import term_create

    committee = organisation_create(name="基准党委", code="BENCH", kind=OrganisationKind.COMMITTEE)
    branches = []
    for g in range(GENERAL_BRANCHES):
        general = organisation_create(
            name=f"第{g + 1}党总支", code=f"G{g:02d}", kind=OrganisationKind.GENERAL_BRANCH, parent=committee
        )
        for b in range(BRANCHES_PER_GENERAL):
            branches.append(
                organisation_create(
                    name=f"第{g + 1}党总支第{b + 1}党支部",
                    code=f"G{g:02d}B{b:02d}",
                    kind=OrganisationKind.BRANCH,
                    parent=general,
                )
            )
    term = term_create(
        organisation=committee,
        name="基准学期",
        kind=TermKind.SEMESTER,
        starts_on=TERM_START,
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
                    name=chinese_name(serial),
                    gender="male" if serial % 2 else "female",
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
                    name=chinese_name(serial),
                    gender="female" if serial % 2 else "male",
                    organisation=branch,
                    category=CATEGORIES[c % len(CATEGORIES)],
                    phone=f"13{serial:09d}",
                )
            )
    Member.objects.bulk_create(members, batch_size=5000)
    Contact.objects.bulk_create(contacts, batch_size=5000)

    member_ids: dict[int, list[int]] = {}
    for member_id, organisation_id in Member.objects.values_list("id", "organisation_id").order_by("id"):
        member_ids.setdefault(organisation_id, []).append(member_id)
    pairings = [
        Pairing(
            member_id=member_ids[organisation_id][index % MEMBERS_PER_BRANCH],
            contact_id=contact_id,
            term=term,
            started_on=term.starts_on,
        )
        for index, (contact_id, organisation_id) in enumerate(
            Contact.objects.values_list("id", "organisation_id").order_by("id")
        )
    ]
    Pairing.objects.bulk_create(pairings, batch_size=5000)
    return len(members), len(contacts), len(pairings)


# One hash per row, h = i * Knuth's constant mod 2^32; its bit ranges pick the texts.
VISITS_SQL = """
INSERT INTO {visit} (pairing_id, happened_on, mode, place, duration_minutes, discussed,
                     views_and_requests, follow_up, situation, situation_details,
                     created_by_id, created_at, updated_at)
SELECT
    p.ids[1 + g.i %% p.n],
    %(start)s::date + ((h >> 3) %% %(days)s)::int,
    (ARRAY['home_visit', 'talk', 'talk', 'phone', 'forum', 'online'])[1 + (h >> 7) %% 6],
    CASE WHEN (h >> 10) %% 10 = 0 THEN '' ELSE (%(places)s::text[])[1 + (h >> 11) %% %(n_places)s] END,
    CASE WHEN (h >> 15) %% 5 = 0 THEN NULL ELSE (10 + (h >> 16) %% 111)::smallint END,
    concat_ws('',
        (%(discussed)s::text[])[1 + (h >> 2) %% %(n_discussed)s],
        CASE WHEN (h >> 8) %% 4 >= 1 THEN (%(discussed)s::text[])[1 + (h >> 12) %% %(n_discussed)s] END,
        CASE WHEN (h >> 14) %% 4 >= 2 THEN (%(discussed)s::text[])[1 + (h >> 17) %% %(n_discussed)s] END,
        CASE WHEN (h >> 19) %% 4 = 3 THEN (%(discussed)s::text[])[1 + (h >> 21) %% %(n_discussed)s] END),
    CASE WHEN (h >> 20) %% 5 < 2 THEN (%(views)s::text[])[1 + (h >> 23) %% %(n_views)s] ELSE '' END,
    CASE WHEN (h >> 24) %% 5 = 0 THEN (%(follow_ups)s::text[])[1 + (h >> 26) %% %(n_follow_ups)s] ELSE '' END,
    CASE WHEN g.i %% 50 = 7 THEN (%(situations)s::text[])[1 + (h >> 5) %% 5] ELSE '' END,
    CASE WHEN g.i %% 50 = 7 THEN (%(details)s::text[])[1 + (h >> 9) %% %(n_details)s] ELSE '' END,
    %(user)s, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g(i)
CROSS JOIN LATERAL (SELECT (g.i * 2654435761) %% 4294967296 AS h) AS x
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*)::bigint AS n FROM {pairing}) AS p
"""

# About 1 visit in 8 gets help; 1 in 40 gets a second item. Kinds rotate over all five.
HELP_SQL = """
INSERT INTO {help} (visit_id, kind, description, amount)
SELECT v.id, k.kind,
    CASE k.kind
        WHEN 'money' THEN ''
        WHEN 'goods' THEN (%(goods)s::text[])[1 + v.id %% %(n_goods)s]
        WHEN 'work_study' THEN '推荐图书馆勤工助学岗位'
        WHEN 'encouragement' THEN CASE WHEN v.id %% 2 = 0 THEN '鼓励坚持完成学业' ELSE '' END
        ELSE (%(policies)s::text[])[1 + v.id %% %(n_policies)s]
    END,
    CASE k.kind
        WHEN 'money' THEN 200 + (v.id * 37) %% 1801
        WHEN 'goods' THEN 50 + (v.id * 13) %% 251 + 0.5
        ELSE NULL
    END
FROM {visit} AS v
CROSS JOIN LATERAL (
    SELECT (ARRAY['money', 'goods', 'work_study', 'encouragement', 'policy'])[1 + (v.id / 8) %% 5] AS kind
    WHERE v.id %% 8 = 3
    UNION ALL
    SELECT (ARRAY['goods', 'money', 'policy', 'encouragement', 'work_study'])[1 + (v.id / 40) %% 5]
    WHERE v.id %% 40 = 3
) AS k
"""


def build_visits(rows: int, user_id: int) -> int:
    from django.db import connection

    from pairings.models import Pairing
    from visits.models import Visit, VisitHelp

    sql = VISITS_SQL.format(visit=Visit._meta.db_table, pairing=Pairing._meta.db_table)
    params: dict[str, Any] = {
        "start": TERM_START,
        "days": TERM_DAYS,
        "places": PLACES,
        "n_places": len(PLACES),
        "discussed": DISCUSSED,
        "n_discussed": len(DISCUSSED),
        "views": VIEWS,
        "n_views": len(VIEWS),
        "follow_ups": FOLLOW_UPS,
        "n_follow_ups": len(FOLLOW_UPS),
        "situations": SITUATIONS,
        "details": SITUATION_DETAILS,
        "n_details": len(SITUATION_DETAILS),
        "user": user_id,
    }
    with connection.cursor() as cursor:
        for first in range(0, rows, INSERT_BATCH):
            last = min(first + INSERT_BATCH, rows) - 1
            cursor.execute(sql, {**params, "first": first, "last": last})
            print(f"  {last + 1:>10,} visits inserted", flush=True)
        help_sql = HELP_SQL.format(help=VisitHelp._meta.db_table, visit=Visit._meta.db_table)
        cursor.execute(
            help_sql, {"goods": GOODS, "n_goods": len(GOODS), "policies": POLICIES, "n_policies": len(POLICIES)}
        )
        return cursor.rowcount


def existing_visits() -> int | None:
    from django.db import connection
    from django.db.utils import ProgrammingError

    from visits.models import Visit

    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {Visit._meta.db_table}")
            return cursor.fetchone()[0]
    except ProgrammingError:
        return None


# Measurements (each in its own child process) -------------------------------------------------


def rss_mb() -> float:
    """Current resident set size."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (since the last reset_peak)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def reset_peak() -> bool:
    """Reset the peak to the current resident size (Linux ≥ 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class Profile:
    def __init__(self, enabled: bool) -> None:
        self.profile = None
        if enabled:
            import cProfile

            self.profile = cProfile.Profile()

    def __enter__(self):
        if self.profile:
            self.profile.enable()
        return self

    def __exit__(self, *exc):
        if self.profile:
            import pstats

            self.profile.disable()
            stats = pstats.Stats(self.profile, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)


def child_setup():
    import django

    django.setup()
    from django.utils import translation

    translation.activate("zh-hans")
    import openpyxl  # noqa: F401  (imported before the baseline so it does not count)

    import reports.ledgers  # noqa: F401


def phase_ledger(path: Path, profile: bool) -> dict:
    child_setup()
    from openpyxl import Workbook

    from reports.ledgers import write_visit_ledger
    from visits.models import Visit

    baseline = rss_mb()
    reset_peak()
    with Profile(profile):
        started = time.perf_counter()
        workbook = Workbook(write_only=True)
        rows = write_visit_ledger(workbook, Visit.objects.order_by("happened_on", "id"))
        workbook.save(path)
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_rss_mb() - baseline}


def load_floor_rows(columns) -> list[list]:
    """The ledger's 16 values per visit as plain lists: two queries, nothing timed."""
    from decimal import Decimal

    from members.masking import mask_phone
    from members.models import ContactCategory
    from visits.models import HelpKind, Situation, Visit, VisitHelp, VisitMode

    categories = {value: str(label) for value, label in ContactCategory.choices}
    modes = {value: str(label) for value, label in VisitMode.choices}
    situations = {value: str(label) for value, label in Situation.choices}
    kinds = {value: str(label) for value, label in HelpKind.choices}

    helps: dict[int, list] = {}
    for visit_id, kind, description, amount in VisitHelp.objects.order_by("id").values_list(
        "visit_id", "kind", "description", "amount"
    ):
        helps.setdefault(visit_id, []).append((kind, description, amount))

    def total(items, kind):
        amounts = [amount for k, _d, amount in items if k == kind and amount is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    shared: dict[str, str] = {}  # one str object per distinct name, as a real in-memory source would hold
    rows: list[list[object]] = [[str(column.label) for column in columns]]
    visits = (
        Visit.objects.order_by("happened_on", "id")
        .values_list(
            "id",
            "happened_on",
            "pairing__member__name",
            "pairing__member__organisation__name",
            "pairing__contact__name",
            "pairing__contact__category",
            "pairing__contact__phone",
            "mode",
            "place",
            "duration_minutes",
            "discussed",
            "views_and_requests",
            "follow_up",
            "situation",
        )
        .iterator(chunk_size=10_000)
    )
    for (
        visit_id,
        happened_on,
        member,
        branch,
        contact,
        category,
        phone,
        mode,
        place,
        duration,
        discussed,
        views,
        follow_up,
        situation,
    ) in visits:
        items = helps.get(visit_id, ())
        help_text = "; ".join(f"{kinds[kind]} {description}".strip() for kind, description, _a in items)
        rows.append(
            [
                happened_on,
                shared.setdefault(member, member),
                shared.setdefault(branch, branch),
                shared.setdefault(contact, contact),
                categories[category],
                mask_phone(phone),
                modes[mode],
                place or None,
                duration,
                discussed or None,
                views or None,
                follow_up or None,
                situations[situation] if situation else None,
                help_text or None,
                total(items, HelpKind.MONEY),
                total(items, HelpKind.GOODS),
            ]
        )
    return rows


def phase_floor(path: Path, profile: bool) -> dict:
    import gc

    child_setup()
    from openpyxl import Workbook

    from reports.ledgers import VISIT_COLUMNS

    baseline = rss_mb()
    rows = load_floor_rows(VISIT_COLUMNS)
    gc.collect()
    loaded = rss_mb()
    peak_reset = reset_peak()
    with Profile(profile):
        started = time.perf_counter()
        workbook = Workbook(write_only=True)
        ws = workbook.create_sheet("Visit logs")
        for row in rows:
            ws.append(row)
        workbook.save(path)
        seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "rows": len(rows) - 1,
        "seconds": seconds,
        "peak_mb": peak - loaded,
        "rows_mb": loaded - baseline,
        "peak_reset": peak_reset,
    }


def run_phase(phase: str, path: Path, profile: bool) -> dict:
    """Run one phase in a fresh interpreter; it sends its figures back as JSON on the last stdout line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--out", str(path)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
    *before, last = done.stdout.strip().splitlines()
    if before:
        print("\n".join(before))
    result = json.loads(last)
    print(f"  {phase}: {result['rows']:,} rows in {result['seconds']:.1f} s")
    result["file_mb"] = path.stat().st_size / 2**20
    return result


# Orchestration ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="visits to export (default 1,000,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it has exactly --rows visits")
    parser.add_argument("--profile", action="store_true", help="print cProfile tables of the timed sections")
    parser.add_argument("--out-dir", type=Path, help="keep the .xlsx files here (default: a deleted temp dir)")
    parser.add_argument("--phase", choices=["ledger", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cast(io.TextIOWrapper, sys.stdout).reconfigure(
        line_buffering=True
    )  # progress lines in order when logging to a file

    if args.phase:
        phase = phase_ledger if args.phase == "ledger" else phase_floor
        print(json.dumps(phase(args.out, args.profile)), flush=True)
        return

    existed = ensure_database(keep=args.reuse)
    import django

    django.setup()
    import openpyxl
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from visits.models import Visit

    found = existing_visits() if existed else None
    if found is not None and found != args.rows:
        print(f"Database has {found:,} visits, not {args.rows:,}: rebuilding it.")
        connection.close()
        ensure_database(keep=False)
        found = None
    call_command("migrate", verbosity=0)
    server = connection.cursor().connection.info.server_version
    print(f"PostgreSQL {server}, database {connection.settings_dict['NAME']}")
    print(
        f"Python {platform.python_version()}, openpyxl {openpyxl.__version__} (lxml: {openpyxl.LXML}), "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )

    if found is None:
        started = time.perf_counter()
        members, contacts, pairings = build_people()
        print(
            f"{members:,} members, {contacts:,} contacts, {pairings:,} pairings ({time.perf_counter() - started:.1f} s)"
        )
        user = get_user_model().objects.create_superuser("bench", password=None)
        started = time.perf_counter()
        helps = build_visits(args.rows, user.pk)
        print(f"{args.rows:,} visits, {helps:,} help items ({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE ({time.perf_counter() - started:.1f} s)")
    else:
        print(f"Reusing {found:,} visits")
    with connection.cursor() as cursor:  # warm the cache for both phases alike
        cursor.execute(f"SELECT count(*), sum(length(discussed)) FROM {Visit._meta.db_table}")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [Visit._meta.db_table])
        print(f"{Visit._meta.db_table}: {cursor.fetchone()[0]}")
    connection.close()

    with tempfile.TemporaryDirectory() as temporary:
        out_dir = args.out_dir or Path(temporary)
        out_dir.mkdir(parents=True, exist_ok=True)
        ledger = run_phase("ledger", out_dir / "ledger.xlsx", args.profile)
        floor = run_phase("floor", out_dir / "floor.xlsx", args.profile)

    print()
    print(f"{'phase':<44} {'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak MB':>9} {'file MB':>9}")
    for label, result in (
        ("ledger (query + write_visit_ledger + save)", ledger),
        ("floor (raw openpyxl write-only + save)", floor),
    ):
        print(
            f"{label:<44} {result['rows']:>10,} {result['seconds']:>9.2f} {result['rows'] / result['seconds']:>9,.0f} "
            f"{result['peak_mb']:>9.1f} {result['file_mb']:>9.1f}"
        )
    note = "" if floor["peak_reset"] else " (peak could not be reset: floor peak includes loading)"
    print(f"floor input: {floor['rows']:,} rows held in memory as lists take {floor['rows_mb']:,.1f} MB{note}")
    print(f"ledger / floor time: {ledger['seconds'] / floor['seconds']:.2f}x")


if __name__ == "__main__":
    main()
