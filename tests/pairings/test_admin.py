"""The pairings pages of the admin are scoped like everything else."""

import pytest
from django.urls import reverse

from pairings import services
from pairings.models import QuotaOverride

pytestmark = pytest.mark.django_db


def test_secretary_b_sees_neither_branch_a_pairings_nor_its_overrides(client, world, term):
    pairing = services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    override = services.quota_override_set(
        term=term,
        member=world.member_a1,
        contact_category="student",
        unit="person",
        required=1,
        reason="出差",
        by=world.secretary_a.user,
    )
    client.force_login(world.secretary_b.user)
    changelist = client.get(reverse("admin:pairings_pairing_changelist")).content.decode()
    assert world.member_a1.name not in changelist
    assert client.get(reverse("admin:pairings_pairing_change", args=[pairing.pk])).status_code == 404
    assert client.get(reverse("admin:pairings_quotaoverride_change", args=[override.pk])).status_code == 404
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("admin:pairings_pairing_change", args=[pairing.pk])).status_code == 200


def test_only_administrators_change_the_quota_policy(client, world, term):
    url = reverse("admin:pairings_quotapolicy_change", args=[term.policy.pk])
    client.force_login(world.secretary_a.user)
    assert client.get(url).status_code == 200  # read
    response = client.post(url, {"max_members_per_contact": 3})
    assert response.status_code == 403
    term.policy.refresh_from_db()
    assert term.policy.max_members_per_contact == 1


def test_inspector_cannot_add_an_override_in_the_admin(client, world, term):
    client.force_login(world.inspector)
    response = client.post(
        reverse("admin:pairings_quotaoverride_add"),
        {
            "term": term.pk,
            "member": world.member_a1.pk,
            "contact_category": "student",
            "unit": "person",
            "required": 1,
            "reason": "x",
        },
    )
    assert response.status_code == 403
    assert not QuotaOverride.objects.exists()


def frequency_rule_form(term):
    return {"policy": term.policy.pk, "contact_category": "", "member_role": "", "period": "month", "minimum": 2}


def test_a_secretary_cannot_add_frequency_rules_to_the_policy_they_may_not_change(client, world, term):
    from pairings.models import FrequencyRule

    client.force_login(world.secretary_a.user)
    response = client.post(reverse("admin:pairings_frequencyrule_add"), frequency_rule_form(term))
    assert response.status_code == 403
    assert not FrequencyRule.objects.exists()


def test_the_administrator_adds_a_frequency_rule_to_the_term_policy(client, world, term):
    from pairings.models import FrequencyRule

    client.force_login(world.administrator)
    response = client.post(reverse("admin:pairings_frequencyrule_add"), frequency_rule_form(term))
    assert response.status_code == 302
    rule = FrequencyRule.objects.get()
    assert (rule.policy, rule.period, rule.minimum) == (term.policy, "month", 2)


def test_a_frequency_rule_of_the_policy_is_read_only_to_a_secretary_as_the_quota_rules_are(client, world, term):
    from pairings.models import FrequencyRule

    rule = FrequencyRule.objects.create(policy=term.policy, period="term", minimum=3)
    client.force_login(world.secretary_a.user)
    url = reverse("admin:pairings_frequencyrule_change", args=[rule.pk])
    assert client.get(url).status_code == 200  # read
    assert client.post(url, {**frequency_rule_form(term), "minimum": 9}).status_code == 403
    rule.refresh_from_db()
    assert rule.minimum == 3
