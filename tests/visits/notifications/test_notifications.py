"""The notifications page, and notifications as the other apps send them."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.visits.test_visits import TODAY, log, term  # noqa: F401 - term is a fixture
from visits.notifications import selectors, services
from visits.notifications.models import Notification

pytestmark = pytest.mark.django_db


@time_machine.travel(TODAY)
def test_notifications_page_shows_only_mine_and_marks_them_read(client, world, term):  # noqa: F811
    log(world, term, situation="disaster", situation_details="暴雨导致房屋漏水")
    client.force_login(world.member_a1.user)
    assert not client.get(reverse("notifications:notifications")).context["page"].object_list
    client.force_login(world.secretary_a.user)
    assert len(client.get(reverse("notifications:notifications")).context["page"].object_list) == 1
    client.post(reverse("notifications:notifications"))
    assert Notification.objects.get().read_at is not None


def test_notices_are_sent_in_one_insert_and_read_by_their_user_only(world, django_assert_num_queries):
    notices = [
        services.Notice(world.member_a1.user.pk, Notification.Kind.FALLING_BEHIND, "一", "/work/due/"),
        services.Notice(world.secretary_a.user.pk, Notification.Kind.URGENT_SITUATION, "二"),
    ]
    with django_assert_num_queries(1):  # one INSERT for both
        services.notifications_send(notices=notices)
    assert [n.message for n in selectors.notification_list(user=world.member_a1.user)] == ["一"]
    on = timezone.localdate(Notification.objects.get(message="一").created_at)
    assert selectors.notified_user_ids(
        kind=Notification.Kind.FALLING_BEHIND, on=on, user_ids=[world.member_a1.user.pk, world.secretary_a.user.pk]
    ) == {world.member_a1.user.pk}
    assert services.notifications_mark_read(user=world.member_a1.user) == 1
    assert selectors.notified_user_ids(kind=Notification.Kind.FALLING_BEHIND, on=date(2000, 1, 1), user_ids=[]) == set()
