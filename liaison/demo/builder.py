"""A realistic demo organisation: a university school's party committee, with Chinese names."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from members import services
from members.models import (
    REASONS_BY_CATEGORY,
    Appointment,
    ContactCategory,
    Gender,
    LeadershipRoleCode,
    Member,
    MemberCategory,
    MemberStatus,
    Organisation,
    OrganisationKind,
)
from members.validators import id_number_check_char
from pairings.models import TermKind
from pairings.services import pairing_create, quota_compute, term_create

DEMO_PASSWORD = "liaison-demo-2026"  # noqa: S105 - printed for the demo, never used in production
COMMITTEE_CODE = "XG"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林晨阳博文轩睿哲瀚"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英华慧巧美娅雪琳晗婷颖雯洁佳琪萱悦欣怡彤玥瑶梦璐"
STREETS = ["学府路", "文昌路", "育才街", "科技大道", "长江路", "黄河路", "人民路", "解放路"]
REGION_CODES = ["110101", "320102", "330106", "420111", "510107", "610113", "370102"]


@dataclass(frozen=True)
class BranchPlan:
    code: str
    name: str
    parent: str  # code of the general branch, or the committee
    member_category: str
    members: int
    unit: str


BRANCHES = [
    BranchPlan("XG-JG-01", "计算机系教工党支部", "XG-JG", MemberCategory.FACULTY, 10, "计算机系"),
    BranchPlan("XG-JG-02", "软件工程系教工党支部", "XG-JG", MemberCategory.FACULTY, 10, "软件工程系"),
    BranchPlan("XG-JG-03", "行政教辅党支部", "XG-JG", MemberCategory.CADRE, 8, "学院办公室"),
    BranchPlan("XG-XS-01", "本科生第一党支部", "XG-XS", MemberCategory.STUDENT, 12, "2023级本科"),
    BranchPlan("XG-XS-02", "本科生第二党支部", "XG-XS", MemberCategory.STUDENT, 12, "2024级本科"),
    BranchPlan("XG-XS-03", "研究生党支部", "XG-XS", MemberCategory.STUDENT, 12, "研究生"),
    BranchPlan("XG-LT-01", "离退休教工党支部", COMMITTEE_CODE, MemberCategory.RETIRED, 6, "离退休处"),
]


class DemoBuilder:
    def __init__(self, seed: int = 2026) -> None:
        self.random = random.Random(seed)
        self.used_names: set[str] = set()
        self.serial = 0

    def name(self, gender: str) -> str:
        pool = GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE
        while True:
            given = "".join(self.random.choice(pool) for _ in range(self.random.choice((1, 2))))
            full = self.random.choice(SURNAMES) + given
            if full not in self.used_names:
                self.used_names.add(full)
                return full

    def id_number(self, born: date, gender: str) -> str:
        self.serial += 1
        sequence = (self.serial * 2 + (1 if gender == Gender.MALE else 0)) % 1000
        first17 = f"{self.random.choice(REGION_CODES)}{born:%Y%m%d}{sequence:03d}"
        return first17 + id_number_check_char(first17)

    def phone(self) -> str:
        return f"1{self.random.choice('3578')}{self.random.randint(0, 9)}{self.random.randint(0, 99999999):08d}"

    def birthday(self, youngest: int, oldest: int) -> date:
        return date(2026, 1, 1) - timedelta(days=self.random.randint(youngest * 365, oldest * 365))

    def gender(self) -> str:
        return self.random.choice((Gender.MALE, Gender.FEMALE))


def demo_semester(today: date) -> tuple[str, date, date]:
    """The semester the demo runs in: the one around today, so the demo works on any date.

    Autumn runs from 1 September to 31 January, spring from 1 February to 31 August."""
    if today.month >= 9 or today.month == 1:
        year = today.year if today.month >= 9 else today.year - 1
        return f"{year}—{year + 1}学年第一学期", date(year, 9, 1), date(year + 1, 1, 31)
    return f"{today.year - 1}—{today.year}学年第二学期", date(today.year, 2, 1), date(today.year, 8, 31)


def demo_exists() -> bool:
    return Organisation.objects.filter(code=COMMITTEE_CODE).exists()


@transaction.atomic
def build_demo() -> dict[str, str]:
    """Build the demo; returns the demo logins (username → description)."""
    builder = DemoBuilder()
    committee = services.organisation_create(
        name="信息工程学院党委", code=COMMITTEE_CODE, kind=OrganisationKind.COMMITTEE
    )
    general = {
        "XG-JG": services.organisation_create(
            name="教工党总支", code="XG-JG", kind=OrganisationKind.GENERAL_BRANCH, parent=committee
        ),
        "XG-XS": services.organisation_create(
            name="学生党总支", code="XG-XS", kind=OrganisationKind.GENERAL_BRANCH, parent=committee
        ),
        COMMITTEE_CODE: committee,
    }
    branches: dict[str, Organisation] = {}
    members_by_branch: dict[str, list] = {}
    for plan in BRANCHES:
        branch = services.organisation_create(
            name=plan.name, code=plan.code, kind=OrganisationKind.BRANCH, parent=general[plan.parent]
        )
        branches[plan.code] = branch
        members_by_branch[plan.code] = []
        for index in range(plan.members):
            gender = builder.gender()
            student = plan.member_category == MemberCategory.STUDENT
            born = builder.birthday(19, 24) if student else builder.birthday(28, 75)
            roles = []
            if index == 0:
                roles.append(LeadershipRoleCode.BRANCH_SECRETARY)
            if not student and index == 1:
                roles.append(LeadershipRoleCode.MIDDLE_CADRE)
            member, _new = services.member_save(
                name=builder.name(gender),
                gender=gender,
                organisation=branch,
                category=plan.member_category,
                status=MemberStatus.PROBATIONARY if student and index % 4 == 3 else MemberStatus.FULL,
                id_number=builder.id_number(born, gender),
                phone=builder.phone(),
                joined_on=date(born.year + (20 if student else 24), 6, 28),
                role_codes=roles,
            )
            members_by_branch[plan.code].append(member)
        services.organisation_set_secretary(organisation=branch, secretary=members_by_branch[plan.code][0])

    # Two party groups under the largest student branch.
    for number in (1, 2):
        services.organisation_create(
            name=f"第{'一二'[number - 1]}党小组",
            code=f"XG-XS-01-{number}",
            kind=OrganisationKind.GROUP,
            parent=branches["XG-XS-01"],
        )

    contacts_by_branch = _build_contacts(builder, branches)

    name, starts_on, ends_on = demo_semester(timezone.localdate())
    term = term_create(
        organisation=committee, name=name, kind=TermKind.SEMESTER, starts_on=starts_on, ends_on=ends_on, is_current=True
    )
    # Pair members with their branch's contacts (2 activists, 3 staff, 5 students while there are);
    # the last members of each branch are left short, for the matching to propose.
    for code, members in members_by_branch.items():
        members = members[:-3]
        pool = {
            category: [c for c in contacts_by_branch[code] if c.category == category] for category in ContactCategory
        }
        for member in members:
            for category, wanted in (
                (ContactCategory.ACTIVIST, 2),
                (ContactCategory.STAFF, 3),
                (ContactCategory.STUDENT, 5),
                (ContactCategory.CITIZEN_IN_DIFFICULTY, 2),
            ):
                for contact in pool[category][:wanted]:
                    pairing_create(member=member, contact=contact, term=term, started_on=term.starts_on)
                pool[category] = pool[category][wanted:]

    quota_compute(term=term, organisation=committee)
    accounts = _demo_accounts(committee, branches["XG-XS-01"], members_by_branch["XG-XS-01"][1])
    # Inserting siblings in code order moves tree paths: read the branch afresh.
    demo_member = Member.objects.select_related("organisation", "user").get(pk=members_by_branch["XG-XS-01"][1].pk)
    _field_work(demo_member.organisation, demo_member, term)
    _term_activity(term, committee, builder)
    return accounts


def _field_work(branch: Organisation, member, term) -> None:
    """A few logs, a request, a pledge and a claimed post, so every page has something to show."""
    from visits.models import VisitMode
    from visits.pledges import services as pledges
    from visits.services import HelpGiven, VisitData, visit_log

    today = timezone.localdate()
    assert branch.secretary is not None and branch.secretary.user is not None  # linked by _demo_accounts
    user, secretary = member.user, branch.secretary.user
    contacts = [pairing.contact for pairing in member.pairings.select_related("contact").order_by("id")[:3]]
    for days_ago, contact, mode, discussed, extra in (
        (20, contacts[0], VisitMode.TALK, "了解学习进度和期末复习安排", {}),
        (
            9,
            contacts[1],
            VisitMode.HOME_VISIT,
            "走访宿舍，了解生活情况",
            {"help": [HelpGiven("money", amount=Decimal(500))]},
        ),
        (2, contacts[0], VisitMode.PHONE, "电话询问奖学金申请材料", {"request_summary": "奖学金申请材料提交时间太紧"}),
    ):
        # Early in a term the logs bunch up on its first day.
        happened_on = max(today - timedelta(days=days_ago), term.starts_on)
        visit_log(
            user=user,
            contact=contact,
            data=VisitData(happened_on=happened_on, mode=mode, discussed=discussed, **extra),
        )
    pledge = pledges.pledge_create(member=member, by=user, year=today.year, title="每月为低年级同学开展一次学业辅导")
    pledges.pledge_make_public(pledge=pledge, by=user)
    post = pledges.service_post_create(organisation=branch, by=secretary, title="政策宣传岗", places=3)
    pledges.post_claim(post=post, member=member, by=user)
    branch.public_board_enabled = True
    branch.save(update_fields=["public_board_enabled"])


DISCUSSED = ["谈心谈话，了解思想动态", "了解学习和生活情况", "宣讲资助政策", "帮助解决宿舍维修问题", "讨论就业意向"]


def _term_activity(term, committee: Organisation, builder: DemoBuilder) -> None:
    """Weeks of visits, some help and requests, survey answers and a first evaluation, so the
    dashboards and ledgers have figures. Written in bulk: the demo must build in seconds."""
    from pairings.models import Pairing
    from reports.models import SatisfactionRating, SurveyResponse
    from reports.services import evaluate
    from visits.models import HelpKind, Visit, VisitHelp, VisitMode
    from visits.requests.models import Request, RequestSource, RequestState, RequestTransition

    today = timezone.localdate()
    until = min(today, term.ends_on)
    days = max((until - term.starts_on).days, 1)
    rng = builder.random
    pairings = list(Pairing.objects.filter(term=term).select_related("member__user", "member__organisation"))
    author = get_user_model().objects.order_by("id").first()
    visits = []
    for pairing in pairings:
        # Most members keep up; some fall behind, so the board and the evaluation differ.
        keen = pairing.member_id % 5 != 0
        for _ in range(rng.randint(2, 4) if keen else rng.randint(0, 1)):
            visits.append(
                Visit(
                    pairing=pairing,
                    happened_on=term.starts_on + timedelta(days=rng.randrange(days)),
                    mode=rng.choice([VisitMode.TALK, VisitMode.HOME_VISIT, VisitMode.PHONE, VisitMode.ONLINE]),
                    discussed=rng.choice(DISCUSSED),
                    created_by=pairing.member.user or author,
                )
            )
    Visit.objects.bulk_create(visits, batch_size=1000)
    VisitHelp.objects.bulk_create(
        (
            VisitHelp(visit=visit, kind=HelpKind.MONEY, amount=rng.choice([200, 300, 500, 800]))
            if index % 2
            else VisitHelp(
                visit=visit, kind=HelpKind.GOODS, description="冬衣、学习用品", amount=rng.choice([100, 150])
            )
        )
        for index, visit in enumerate(visits[::12])
    )
    states = [RequestState.RECEIVED, RequestState.ASSIGNED, RequestState.RESOLVED, RequestState.CLOSED]
    requests = []
    for index, pairing in enumerate(pairings[::9]):
        state = states[index % len(states)]
        assigned = state != RequestState.RECEIVED
        requests.append(
            Request(
                organisation=pairing.member.organisation,
                contact=pairing.contact,
                source=RequestSource.VISIT,
                summary=rng.choice(["宿舍热水供应不稳定", "希望增加勤工助学岗位", "食堂价格偏高", "申请困难补助"]),
                state=state,
                responsible=pairing.member if assigned else None,
                deadline=term.starts_on + timedelta(days=rng.randrange(days) + 7) if assigned else None,
                created_by=author,
            )
        )
    Request.objects.bulk_create(requests)
    answered_at = timezone.make_aware(datetime.combine(term.starts_on + timedelta(days=10), time(12)))
    steps = RequestTransition.objects.bulk_create(
        RequestTransition(request=request, from_state=RequestState.ASSIGNED, to_state=RequestState.RESOLVED, by=author)
        for request in requests
        if request.state in (RequestState.RESOLVED, RequestState.CLOSED)
    )
    RequestTransition.objects.filter(pk__in=[step.pk for step in steps]).update(at=answered_at)
    ratings = [SatisfactionRating.SATISFIED] * 7 + [SatisfactionRating.BASICALLY_SATISFIED] * 2
    ratings.append(SatisfactionRating.DISSATISFIED)
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            term=term,
            member_id=pairing.member_id,
            rating=rng.choice(ratings if pairing.member_id % 7 else ratings[6:]),
            submitted_on=until,
        )
        for pairing in pairings
        if rng.random() < 0.6
    )
    evaluate(term=term, organisation=committee)


CONTACT_MIX: dict[str, list[tuple[ContactCategory, int]]] = {
    # branch category → share of each contact category
    MemberCategory.FACULTY: [
        (ContactCategory.STAFF, 5),
        (ContactCategory.ACTIVIST, 2),
        (ContactCategory.STUDENT, 3),
        (ContactCategory.NON_PARTY, 1),
    ],
    MemberCategory.CADRE: [
        (ContactCategory.STAFF, 5),
        (ContactCategory.CITIZEN_IN_DIFFICULTY, 2),
        (ContactCategory.NON_PARTY, 1),
    ],
    MemberCategory.STUDENT: [(ContactCategory.STUDENT, 6), (ContactCategory.ACTIVIST, 3)],
    MemberCategory.RETIRED: [(ContactCategory.CITIZEN_IN_DIFFICULTY, 4), (ContactCategory.STAFF, 1)],
}


def _build_contacts(builder: DemoBuilder, branches: dict[str, Organisation]) -> dict[str, list]:
    contacts: dict[str, list] = {}
    for plan in BRANCHES:
        branch = branches[plan.code]
        mix = [category for category, weight in CONTACT_MIX[plan.member_category] for _ in range(weight)]
        contacts[plan.code] = []
        for _index in range(plan.members * 9):
            category = builder.random.choice(mix)
            gender = builder.gender()
            reasons = sorted(REASONS_BY_CATEGORY[category])
            chosen = (
                [reasons[builder.random.randrange(len(reasons))]] if reasons and builder.random.random() < 0.4 else []
            )
            young = category in (ContactCategory.STUDENT, ContactCategory.ACTIVIST)
            born = builder.birthday(18, 23) if young else builder.birthday(25, 85)
            with_id = category == ContactCategory.CITIZEN_IN_DIFFICULTY or builder.random.random() < 0.5
            contacts[plan.code].append(
                services.contact_save(
                    name=builder.name(gender),
                    gender=gender,
                    organisation=branch,
                    category=category,
                    reason_codes=chosen,
                    unit=plan.unit if category != ContactCategory.CITIZEN_IN_DIFFICULTY else "城关社区",
                    id_number=builder.id_number(born, gender) if with_id else "",
                    phone=builder.phone(),
                    address=f"{builder.random.choice(STREETS)}{builder.random.randint(1, 300)}号"
                    f"{builder.random.randint(1, 20)}栋{builder.random.randint(101, 1802)}室",
                )[0]
            )
    return contacts


def _demo_accounts(committee: Organisation, branch: Organisation, member) -> dict[str, str]:
    user_model = get_user_model()
    admin = user_model.objects.create_user("admin", password=DEMO_PASSWORD, first_name="组织部管理员")
    services.appointment_create(user=admin, organisation=committee, role=Appointment.Role.ADMINISTRATOR)
    inspector = user_model.objects.create_user("inspector", password=DEMO_PASSWORD, first_name="纪委督查")
    services.appointment_create(user=inspector, organisation=committee, role=Appointment.Role.INSPECTOR)
    assert branch.secretary is not None  # every demo branch is built with one
    services.member_link_account(member=branch.secretary, username="secretary", password=DEMO_PASSWORD)
    services.member_link_account(member=member, username="member", password=DEMO_PASSWORD)
    return {
        "admin": f"{committee.name} — committee administrator",
        "secretary": f"{branch.secretary.name}, secretary of {branch.name}",
        "member": f"{member.name}, member of {branch.name}",
        "inspector": "discipline inspector (read-only)",
    }
