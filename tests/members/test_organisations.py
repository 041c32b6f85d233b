import pytest
from django.core.exceptions import ValidationError

from members import services
from members.models import Organisation, OrganisationKind
from members.scoping import get_scope

pytestmark = pytest.mark.django_db


def test_a_subtree_is_read_in_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = sorted(Organisation.objects.filter(path__startswith=world.general.path).values_list("code", flat=True))
    assert codes == ["A", "A1", "B", "G"]


def test_the_tree_refuses_a_branch_above_a_general_branch(world):
    with pytest.raises(ValidationError):
        services.organisation_create(name="错位", code="X", kind=OrganisationKind.GENERAL_BRANCH, parent=world.branch_a)
    with pytest.raises(ValidationError):
        services.organisation_create(name="无根支部", code="Y", kind=OrganisationKind.BRANCH)
    assert not Organisation.objects.filter(code__in=["X", "Y"]).exists()


def test_a_member_cannot_belong_to_a_general_branch(world):
    with pytest.raises(ValidationError):
        services.member_save(
            name="某人",
            gender="male",
            organisation=world.general,
            category="faculty",
            status="full",
            id_number="110101199003076632",
        )


def test_naming_a_secretary_gives_reach_over_the_subtree_at_once(world):
    user = world.member_a2.user
    assert not get_scope(user).manages(world.group_a1)
    services.organisation_set_secretary(organisation=world.branch_a, secretary=world.member_a2)
    assert get_scope(user).manages(world.group_a1)
    assert not get_scope(user).manages(world.branch_b)


def test_a_secretary_must_come_from_inside_the_organisation(world):
    with pytest.raises(ValidationError):
        services.organisation_set_secretary(organisation=world.branch_b, secretary=world.member_a1)


def test_general_branch_secretary_reaches_every_branch_below(world):
    services.organisation_set_secretary(organisation=world.general, secretary=world.secretary_a)
    scope = get_scope(world.secretary_a.user)
    assert scope.manages(world.branch_b)
    assert not scope.manages(world.committee)
