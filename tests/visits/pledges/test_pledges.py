"""Pledges (承诺), service posts (设岗定责), community registration (报到) and the public board (公示)."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from members.models import MemberCategory
from tests.factories import ContactFactory, MemberFactory, UserFactory
from visits.pledges import services
from visits.pledges.models import CommunityRegistration, Pledge, PledgeProgress, PledgeState, PostClaim, ServicePost

TODAY = date(2026, 10, 15)

pytestmark = pytest.mark.usefixtures("frozen_today", "in_english")


@pytest.fixture
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def in_english(settings):
    """Messages are asserted on their English msgids, whatever the catalogue translates."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def make_pledge(member, title="为空巢老人每月理发", year=2026) -> Pledge:
    return services.pledge_create(member=member, by=member.user, year=year, title=title)


def public_pledge(member, title="为空巢老人每月理发") -> Pledge:
    return services.pledge_make_public(pledge=make_pledge(member, title), by=member.user, made_public_on=TODAY)


def reported_pledge(member, title="为空巢老人每月理发") -> Pledge:
    return services.pledge_report(pledge=public_pledge(member, title), by=member.user, report="理发十二次。")


def in_service(world, name="在职党员", organisation=None):
    member = MemberFactory.create(
        name=name, organisation=organisation or world.branch_a, category=MemberCategory.IN_SERVICE
    )
    member.user = UserFactory.create(username=f"user-{member.pk}")
    member.save()
    return member


@pytest.fixture
def community(world):
    from tests.factories import OrganisationFactory

    # A residential community's party branch, in another tree.
    root = OrganisationFactory.create(name="街道党工委", code="S", kind="committee")
    return OrganisationFactory.create(name="幸福社区党支部", code="S-HAPPY", parent=root)


# The pledge lifecycle ----------------------------------------------------------


def test_a_pledge_goes_from_pledged_to_evaluated(world):
    member, secretary = world.member_a1, world.secretary_a.user
    pledge = make_pledge(member)
    assert pledge.state == PledgeState.PLEDGED

    pledge = services.pledge_make_public(pledge=pledge, by=member.user, made_public_on=date(2026, 3, 1))
    assert (pledge.state, pledge.made_public_on) == (PledgeState.PUBLIC, date(2026, 3, 1))

    services.pledge_progress_add(pledge=pledge, by=member.user, happened_on=date(2026, 4, 2), note="理发五人")
    services.pledge_progress_add(pledge=pledge, by=member.user, happened_on=date(2026, 5, 2), note="理发六人")
    pledge = services.pledge_report(pledge=pledge, by=member.user, report="全年理发十二次。")
    assert pledge.state == PledgeState.REPORTED

    pledge = services.pledge_evaluate(pledge=pledge, by=secretary, rating="excellent", evaluation="坚持得好")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.EVALUATED
    assert (pledge.rating, pledge.evaluation, pledge.evaluated_by) == ("excellent", "坚持得好", secretary)
    assert pledge.progress.count() == 2


def test_the_whole_lifecycle_through_the_pages(client, world):
    client.force_login(world.member_a1.user)
    response = client.post(reverse("pledges:pledge_create"), {"year": 2026, "title": "义务辅导", "description": ""})
    pledge = Pledge.objects.get(title="义务辅导")
    assert response.status_code == 302
    detail = reverse("pledges:pledge_detail", args=[pledge.pk])
    client.post(reverse("pledges:pledge_make_public", args=[pledge.pk]), {"made_public_on": "2026-09-01"})
    client.post(reverse("pledges:pledge_progress", args=[pledge.pk]), {"happened_on": "2026-09-10", "note": "辅导两次"})
    client.post(reverse("pledges:pledge_report", args=[pledge.pk]), {"report": "辅导二十次"})
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.REPORTED
    assert "辅导两次" in client.get(detail).content.decode()
    assert client.get(reverse("pledges:pledge_list")).status_code == 200

    client.force_login(world.secretary_a.user)
    assert "pledge-review" in client.get(reverse("pledges:pledge_review")).content.decode()
    response = client.post(reverse("pledges:pledge_evaluate", args=[pledge.pk]), {"rating": "good", "evaluation": ""})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert (pledge.state, pledge.rating) == (PledgeState.EVALUATED, "good")


@pytest.mark.parametrize(
    ("step", "reached"),
    [
        ("progress", PledgeState.PLEDGED),
        ("report", PledgeState.PLEDGED),
        ("evaluate", PledgeState.PUBLIC),
        ("make_public", PledgeState.PUBLIC),
        ("progress", PledgeState.REPORTED),
        ("report", PledgeState.EVALUATED),
    ],
)
def test_a_step_out_of_order_is_refused_and_nothing_is_saved(world, step, reached):
    member = world.member_a1
    pledge = make_pledge(member)
    if reached != PledgeState.PLEDGED:
        pledge = services.pledge_make_public(pledge=pledge, by=member.user, made_public_on=TODAY)
    if reached in (PledgeState.REPORTED, PledgeState.EVALUATED):
        pledge = services.pledge_report(pledge=pledge, by=member.user, report="做完了")
    if reached == PledgeState.EVALUATED:
        pledge = services.pledge_evaluate(pledge=pledge, by=world.secretary_a.user, rating="good")
    before = Pledge.objects.filter(pk=pledge.pk).values().get()
    actions = {
        "make_public": lambda: services.pledge_make_public(pledge=pledge, by=member.user),
        "progress": lambda: services.pledge_progress_add(pledge=pledge, by=member.user, happened_on=TODAY, note="x"),
        "report": lambda: services.pledge_report(pledge=pledge, by=member.user, report="又做了"),
        "evaluate": lambda: services.pledge_evaluate(pledge=pledge, by=world.secretary_a.user, rating="good"),
    }
    with pytest.raises(ValidationError):
        actions[step]()
    assert Pledge.objects.filter(pk=pledge.pk).values().get() == before
    assert not PledgeProgress.objects.exists()


def test_a_report_without_text_is_refused(world):
    pledge = public_pledge(world.member_a1)
    with pytest.raises(ValidationError):
        services.pledge_report(pledge=pledge, by=world.member_a1.user, report="   ")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PUBLIC


def test_progress_in_the_future_or_before_going_public_is_refused(world):
    pledge = public_pledge(world.member_a1)
    for day in (date(2026, 10, 16), date(2026, 10, 14)):
        with pytest.raises(ValidationError):
            services.pledge_progress_add(pledge=pledge, by=world.member_a1.user, happened_on=day, note="x")
    assert not PledgeProgress.objects.exists()


def test_a_step_out_of_order_on_the_page_shows_an_error_and_changes_nothing(client, world):
    pledge = make_pledge(world.member_a1)
    client.force_login(world.member_a1.user)
    response = client.post(reverse("pledges:pledge_report", args=[pledge.pk]), {"report": "做完了"}, follow=True)
    assert "alert-danger" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PLEDGED


def test_a_third_pledge_in_a_year_is_refused(world):
    make_pledge(world.member_a1, "一")
    make_pledge(world.member_a1, "二")
    with pytest.raises(ValidationError):
        make_pledge(world.member_a1, "三")
    assert Pledge.objects.filter(member=world.member_a1, year=2026).count() == 2
    make_pledge(world.member_a1, "明年的", year=2027)  # a new year starts afresh


def test_a_third_pledge_on_the_page_shows_the_rule(client, world):
    make_pledge(world.member_a1, "一")
    make_pledge(world.member_a1, "二")
    client.force_login(world.member_a1.user)
    response = client.post(reverse("pledges:pledge_create"), {"year": 2026, "title": "三"})
    assert response.status_code == 200
    assert "one or two concrete things a year" in response.content.decode()
    assert not Pledge.objects.filter(title="三").exists()


# Who may do what ---------------------------------------------------------------


def test_only_a_manager_of_the_members_organisation_evaluates(world):
    pledge = reported_pledge(world.member_a1)
    for user in (world.secretary_b.user, world.member_a2.user, world.member_a1.user, world.inspector, world.outsider):
        with pytest.raises(PermissionDenied):
            services.pledge_evaluate(pledge=pledge, by=user, rating="good")
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.REPORTED
    services.pledge_evaluate(pledge=pledge, by=world.administrator, rating="fair")


def test_a_secretary_does_not_evaluate_their_own_pledge(world):
    pledge = reported_pledge(world.secretary_a)
    with pytest.raises(PermissionDenied):
        services.pledge_evaluate(pledge=pledge, by=world.secretary_a.user, rating="excellent")


def test_secretary_b_and_members_cannot_evaluate_on_the_page(client, world):
    pledge = reported_pledge(world.member_a1)
    url = reverse("pledges:pledge_evaluate", args=[pledge.pk])
    client.force_login(world.secretary_b.user)
    assert client.post(url, {"rating": "good"}).status_code == 404
    client.force_login(world.member_a1.user)
    assert client.post(url, {"rating": "good"}).status_code == 403
    client.force_login(world.inspector)
    assert client.post(url, {"rating": "good"}).status_code == 403
    client.force_login(world.member_a2.user)
    assert client.post(url, {"rating": "good"}).status_code == 404
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.REPORTED


def test_the_evaluation_form_shows_only_to_the_secretary(client, world):
    pledge = reported_pledge(world.member_a1)
    url = reverse("pledges:pledge_detail", args=[pledge.pk])
    client.force_login(world.secretary_a.user)
    assert reverse("pledges:pledge_evaluate", args=[pledge.pk]) in client.get(url).content.decode()
    client.force_login(world.member_a1.user)
    assert reverse("pledges:pledge_evaluate", args=[pledge.pk]) not in client.get(url).content.decode()


def test_member_cannot_open_or_change_another_members_pledge(client, world):
    pledge = make_pledge(world.member_a1)
    client.force_login(world.member_a2.user)
    assert client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).status_code == 404
    for name, data in [
        ("pledges:pledge_make_public", {"made_public_on": "2026-10-01"}),
        ("pledges:pledge_progress", {"happened_on": "2026-10-01", "note": "x"}),
        ("pledges:pledge_report", {"report": "x"}),
    ]:
        assert client.post(reverse(name, args=[pledge.pk]), data).status_code == 404
    pledge.refresh_from_db()
    assert pledge.state == PledgeState.PLEDGED
    with pytest.raises(PermissionDenied):
        services.pledge_make_public(pledge=pledge, by=world.member_a2.user)


def test_a_secretary_cannot_change_a_members_pledge_steps(client, world):
    pledge = make_pledge(world.member_a1)
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).status_code == 200
    assert client.post(reverse("pledges:pledge_make_public", args=[pledge.pk]), {}).status_code == 404


def test_pledge_pages_refuse_users_out_of_scope(client, world):
    pledge = make_pledge(world.member_a1)
    client.force_login(world.outsider)
    assert client.get(reverse("pledges:pledge_list")).status_code == 403
    assert client.get(reverse("pledges:pledge_create")).status_code == 403
    assert client.get(reverse("pledges:pledge_review")).status_code == 403
    assert client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).status_code == 404
    client.force_login(world.secretary_b.user)
    assert client.get(reverse("pledges:pledge_detail", args=[pledge.pk])).status_code == 404
    assert pledge.title not in client.get(reverse("pledges:pledge_review")).content.decode()
    client.force_login(world.member_a2.user)
    assert client.get(reverse("pledges:pledge_review")).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, world):
    for name in ("pledge_list", "post_list", "post_manage", "registration_list", "registration_mine"):
        response = client.get(reverse(f"pledges:{name}"))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


# Service posts -----------------------------------------------------------------


@pytest.fixture
def post(world):
    return services.service_post_create(
        organisation=world.branch_a, by=world.secretary_a.user, title="政策宣讲", duties="每月一次", places=1
    )


def test_only_managers_define_posts(world):
    with pytest.raises(PermissionDenied):
        services.service_post_create(organisation=world.branch_a, by=world.secretary_b.user, title="x")
    with pytest.raises(PermissionDenied):
        services.service_post_create(organisation=world.branch_a, by=world.member_a1.user, title="x")
    assert not ServicePost.objects.exists()


def test_a_post_is_claimed_and_a_full_closed_or_duplicate_claim_is_refused(world, post):
    services.post_claim(post=post, member=world.member_a1, by=world.member_a1.user)
    with pytest.raises(ValidationError, match="already claimed"):
        services.post_claim(post=post, member=world.member_a1, by=world.member_a1.user)
    with pytest.raises(ValidationError, match="Every place"):
        services.post_claim(post=post, member=world.member_a2, by=world.member_a2.user)
    services.service_post_set_open(post=post, by=world.secretary_a.user, is_open=False)
    post.places = 3
    post.save()
    with pytest.raises(ValidationError, match="closed"):
        services.post_claim(post=post, member=world.member_a2, by=world.member_a2.user)
    assert PostClaim.objects.count() == 1


def test_a_member_claims_only_for_themselves_and_only_posts_above_them(world, post):
    with pytest.raises(PermissionDenied):
        services.post_claim(post=post, member=world.member_a1, by=world.member_a2.user)
    with pytest.raises(ValidationError):
        services.post_claim(post=post, member=world.secretary_b, by=world.secretary_b.user)
    general_post = services.service_post_create(organisation=world.general, by=world.administrator, title="平安巡逻")
    services.post_claim(post=general_post, member=world.member_a1, by=world.member_a1.user)  # group A1 is below G


def test_releasing_a_post_frees_its_place(client, world, post):
    client.force_login(world.member_a1.user)
    client.post(reverse("pledges:post_claim", args=[post.pk]))
    claim = PostClaim.objects.get()
    assert claim.released_on is None
    client.force_login(world.member_a2.user)
    response = client.post(reverse("pledges:post_claim", args=[post.pk]), follow=True)
    assert "Every place" in response.content.decode()
    client.force_login(world.member_a1.user)
    client.post(reverse("pledges:post_release", args=[post.pk]))
    claim.refresh_from_db()
    assert claim.released_on == TODAY
    with pytest.raises(ValidationError):
        services.post_release(claim=claim, by=world.member_a1.user)
    client.force_login(world.member_a2.user)
    client.post(reverse("pledges:post_claim", args=[post.pk]))
    assert PostClaim.objects.filter(member=world.member_a2, released_on__isnull=True).exists()


def test_a_member_sees_claimable_posts_with_buttons(client, world, post):
    services.service_post_create(organisation=world.branch_b, by=world.secretary_b.user, title="乙支部岗位")
    client.force_login(world.member_a1.user)
    html = client.get(reverse("pledges:post_list")).content.decode()
    assert "政策宣讲" in html
    assert reverse("pledges:post_claim", args=[post.pk]) in html
    assert "乙支部岗位" not in html


def test_post_pages_refuse_users_out_of_scope(client, world, post):
    other = services.service_post_create(organisation=world.branch_b, by=world.secretary_b.user, title="乙支部岗位")
    client.force_login(world.member_a1.user)
    assert client.post(reverse("pledges:post_claim", args=[other.pk])).status_code == 404
    assert client.post(reverse("pledges:post_release", args=[post.pk])).status_code == 404  # nothing claimed
    assert client.get(reverse("pledges:post_manage")).status_code == 403
    assert client.get(reverse("pledges:post_create")).status_code == 403
    assert client.post(reverse("pledges:post_toggle", args=[post.pk])).status_code == 403
    client.force_login(world.secretary_b.user)
    assert client.post(reverse("pledges:post_toggle", args=[post.pk])).status_code == 404
    assert "政策宣讲" not in client.get(reverse("pledges:post_manage")).content.decode()
    client.force_login(world.outsider)
    assert client.get(reverse("pledges:post_list")).status_code == 403
    assert not PostClaim.objects.exists()
    post.refresh_from_db()
    assert post.is_open


def test_a_secretary_creates_and_closes_posts_on_the_page(client, world):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("pledges:post_create"),
        {"organisation": world.branch_a.pk, "title": "敬老助老", "duties": "", "places": 2},
    )
    assert response.status_code == 302
    post = ServicePost.objects.get(title="敬老助老")
    client.post(reverse("pledges:post_toggle", args=[post.pk]))
    post.refresh_from_db()
    assert not post.is_open
    response = client.post(
        reverse("pledges:post_create"), {"organisation": world.branch_b.pk, "title": "越权", "places": 1}
    )
    assert response.status_code == 200  # branch B is not among the choices
    assert not ServicePost.objects.filter(title="越权").exists()


# Community registration ------------------------------------------------------------


def test_only_in_service_members_register_with_a_community(world, community):
    with pytest.raises(ValidationError, match="in-service"):
        services.community_register(
            member=world.member_a1, community=community, registered_on=TODAY, by=world.member_a1.user
        )
    member = in_service(world)
    services.community_register(member=member, community=community, registered_on=TODAY, by=member.user)
    with pytest.raises(ValidationError):
        services.community_register(member=member, community=community, registered_on=TODAY, by=member.user)
    assert CommunityRegistration.objects.count() == 1


def test_only_the_member_or_their_secretary_records_a_registration(world, community):
    member = in_service(world)
    for user in (world.secretary_b.user, world.member_a1.user, world.inspector):
        with pytest.raises(PermissionDenied):
            services.community_register(member=member, community=community, registered_on=TODAY, by=user)
    services.community_register(member=member, community=community, registered_on=TODAY, by=world.secretary_a.user)


def test_the_not_yet_registered_list_shows_in_service_members_still_to_report(client, world, community):
    reported = in_service(world, "已报到")
    waiting = in_service(world, "未报到")
    elsewhere = in_service(world, "乙未报到", world.branch_b)
    services.community_register(member=reported, community=community, registered_on=TODAY, by=reported.user)
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("pledges:registration_list"))
    assert [m.pk for m in response.context["page"]] == [waiting.pk]
    html = response.content.decode()
    assert "幸福社区党支部" in html
    assert elsewhere.name not in html
    assert world.member_a1.name not in html.split('data-testid="unregistered"')[1].split("</ul>")[0]

    response = client.post(
        reverse("pledges:registration_create"),
        {"member": waiting.pk, "community": community.pk, "registered_on": "2026-10-01"},
    )
    assert response.status_code == 302
    assert list(client.get(reverse("pledges:registration_list")).context["page"]) == []


def test_a_member_reports_to_a_community_on_their_page(client, world, community):
    member = in_service(world)
    client.force_login(member.user)
    client.post(reverse("pledges:registration_mine"), {"community": community.pk, "registered_on": "2026-10-10"})
    assert CommunityRegistration.objects.get().member == member
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("pledges:registration_mine"), {"community": community.pk, "registered_on": "2026-10-10"}
    )
    assert "in-service" in response.content.decode()
    assert CommunityRegistration.objects.count() == 1


def test_registration_pages_refuse_users_out_of_scope(client, world, community):
    member = in_service(world)
    client.force_login(world.member_a1.user)
    assert client.get(reverse("pledges:registration_list")).status_code == 403
    data = {"member": member.pk, "community": community.pk, "registered_on": "2026-10-01"}
    assert client.post(reverse("pledges:registration_create"), data).status_code == 403
    client.force_login(world.inspector)
    assert client.get(reverse("pledges:registration_list")).status_code == 200
    assert client.post(reverse("pledges:registration_create"), data).status_code == 403
    client.force_login(world.secretary_b.user)
    client.post(reverse("pledges:registration_create"), data)  # member A is not among B's choices
    client.force_login(world.outsider)
    assert client.get(reverse("pledges:registration_mine")).status_code == 403
    assert not CommunityRegistration.objects.exists()


# The public board ----------------------------------------------------------------


def fill_board(world, community):
    """A public pledge, a claimed post and a registration in branch A; private data all around."""
    public_pledge(world.member_a1, "为空巢老人每月理发")
    make_pledge(world.member_a2, "尚未公开的承诺")
    post = services.service_post_create(organisation=world.branch_a, by=world.secretary_a.user, title="政策宣讲")
    services.post_claim(post=post, member=world.member_a2, by=world.member_a2.user)
    member = in_service(world, "在职报到人")
    services.community_register(member=member, community=community, registered_on=TODAY, by=member.user)
    return member


def enable_board(organisation):
    organisation.public_board_enabled = True
    organisation.save(update_fields=["public_board_enabled"])


def test_the_public_board_is_404_unless_enabled(client, world):
    assert client.get(reverse("pledges:public_board", args=["A"])).status_code == 404
    assert client.get(reverse("pledges:public_board", args=["NOPE"])).status_code == 404
    enable_board(world.branch_a)
    assert client.get(reverse("pledges:public_board", args=["A"])).status_code == 200


def test_the_public_board_shows_pledges_posts_and_registrations_anonymously(client, world, community):
    registered = fill_board(world, community)
    evaluated = reported_pledge(world.member_a2, "义务家教")
    services.pledge_evaluate(pledge=evaluated, by=world.secretary_a.user, rating="excellent")
    enable_board(world.general)
    html = client.get(reverse("pledges:public_board", args=["G"])).content.decode()
    for shown in ("为空巢老人每月理发", "义务家教", "Excellent", "政策宣讲", world.member_a2.name, registered.name):
        assert shown in html
    assert "幸福社区党支部" in html
    assert "尚未公开的承诺" not in html


def test_the_public_board_never_shows_personal_data(client, world, community):
    registered = fill_board(world, community)
    enable_board(world.branch_a)
    html = client.get(reverse("pledges:public_board", args=["A"])).content.decode()
    for contact in (world.contact_a1, world.contact_a2):
        for value in (contact.name, contact.phone, contact.id_number, contact.address):
            assert value not in html
    for member in (world.member_a1, world.member_a2, registered):
        assert member.phone not in html
        assert member.id_number not in html
        assert member.masked_phone not in html


def test_the_public_board_of_branch_b_shows_nothing_of_branch_a(client, world, community):
    fill_board(world, community)
    enable_board(world.branch_b)
    html = client.get(reverse("pledges:public_board", args=["B"])).content.decode()
    assert "为空巢老人每月理发" not in html
    assert "政策宣讲" not in html


@pytest.mark.parametrize("count", [3, 60])
def test_the_public_board_issues_a_constant_number_of_queries(
    client, world, community, count, django_assert_max_num_queries
):
    post = services.service_post_create(
        organisation=world.branch_a, by=world.secretary_a.user, title="平安巡逻", places=count
    )
    for n in range(count):
        member = in_service(world, f"在职{n}")
        public_pledge(member, f"承诺{n}")
        services.post_claim(post=post, member=member, by=member.user)
        services.community_register(member=member, community=community, registered_on=TODAY, by=member.user)
        ContactFactory.create(organisation=world.branch_a)
    enable_board(world.branch_a)
    # 1. the organisation by code, where the board is enabled
    # 2. registrations with member and community names
    # 3. active claims with post, post organisation and member names
    # 4. public pledges with member names
    with django_assert_max_num_queries(4):
        response = client.get(reverse("pledges:public_board", args=["A"]))
    assert len(response.context["board"].pledges) == count


# Admin --------------------------------------------------------------------------


def test_admin_lists_are_scoped_to_the_secretarys_subtree(client, world, community):
    fill_board(world, community)
    make_pledge(world.secretary_b, "乙支部承诺")
    client.force_login(world.secretary_b.user)
    for model in ("pledge", "servicepost", "postclaim", "communityregistration"):
        response = client.get(reverse(f"admin:pledges_{model}_changelist"))
        assert response.status_code == 200, model
        html = response.content.decode()
        assert "政策宣讲" not in html
        assert "为空巢老人每月理发" not in html
    assert "乙支部承诺" in client.get(reverse("admin:pledges_pledge_changelist")).content.decode()
    pledge = Pledge.objects.get(title="为空巢老人每月理发")
    assert client.get(reverse("admin:pledges_pledge_change", args=[pledge.pk])).status_code == 404
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("admin:pledges_pledge_change", args=[pledge.pk])).status_code == 200
    assert "政策宣讲" in client.get(reverse("admin:pledges_postclaim_changelist")).content.decode()


# Query counts on the lists ------------------------------------------------------------

# Every logged-in page: session, user, the scope (appointments, secretary paths, member),
# the unread-notification count in the navigation bar, and the second factor (liaison.security:
# the session's device, or whether the user has an authenticator app).
PAGE_QUERIES = 7


@pytest.mark.parametrize(
    ("persona", "name", "own_queries"),
    [
        ("member_a1", "pledge_list", 2),  # pledges with member and organisation; their progress entries
        ("member_a1", "post_list", 1),  # posts with places taken and the member's own claim
        ("secretary_a", "pledge_review", 2),  # count for the paginator; one page of pledges with progress counts
        ("secretary_a", "post_manage", 2),  # posts with places taken; the active claims with members
        # unregistered members: count and page; the form's member choices (checked, then listed);
        # the community choices; the registrations with member, organisation and community
        ("secretary_a", "registration_list", 6),
    ],
)
@pytest.mark.parametrize("count", [3, 40])
def test_the_lists_issue_a_constant_number_of_queries(
    client, world, community, persona, name, own_queries, count, django_assert_max_num_queries
):
    post = services.service_post_create(
        organisation=world.branch_a, by=world.secretary_a.user, title="平安巡逻", places=count
    )
    for n in range(count):
        member = in_service(world, f"在职{n}")
        public_pledge(member, f"承诺{n}")
        services.post_claim(post=post, member=member, by=member.user)
        services.service_post_create(organisation=world.branch_a, by=world.secretary_a.user, title=f"岗位{n}")
        if n % 2:
            services.community_register(member=member, community=community, registered_on=TODAY, by=member.user)
    pledge = public_pledge(world.member_a1)
    for _ in range(count):
        services.pledge_progress_add(pledge=pledge, by=world.member_a1.user, happened_on=TODAY, note="又做了")
    client.force_login(getattr(world, persona).user)
    with django_assert_max_num_queries(PAGE_QUERIES + own_queries):
        response = client.get(reverse(f"pledges:{name}"))
    assert response.status_code == 200


def test_the_admin_records_registrations_only_for_in_service_members(client, world, community):
    member = in_service(world)
    client.force_login(world.secretary_a.user)
    url = reverse("admin:pledges_communityregistration_add")
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:pledges_servicepost_add")).status_code == 200
    data = {"community": community.pk, "registered_on": "2026-10-01"}
    response = client.post(url, {**data, "member": world.member_a1.pk})
    assert response.status_code == 200  # not an in-service member: not even among the choices
    assert not CommunityRegistration.objects.exists()
    assert client.post(url, {**data, "member": member.pk}).status_code == 302
    assert CommunityRegistration.objects.get().community == community
