"""The move of requests, pledges, notifications and frequency rules out of visits keeps the rows.

Back to the state before the move (visits 0002: the tables are visits_*), rows written
there, forward again: the same rows are read through today's models, under the new
tables, and the content types moved with them (no duplicates).
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pairings.models import FrequencyRule
from visits.notifications.models import Notification
from visits.pledges.models import Pledge
from visits.requests.models import Request

BEFORE = [
    ("visits", "0002_visit_photo_private_storage"),
    ("pairings", "0006_matching_run_failed"),
    ("requests", None),
    ("pledges", None),
    ("notifications", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_moving_the_models_keeps_their_rows_and_content_types():
    old = _migrate(BEFORE)
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert {"visits_request", "visits_historicalpledge", "visits_notification", "visits_frequencyrule"} <= tables
    assert "requests_request" not in tables
    user = old.get_model("auth", "User").objects.create(username="迁移")
    old.get_model("visits", "Notification").objects.create(user_id=user.pk, kind="falling_behind", message="旧消息")
    moved = {"request": "requests", "pledge": "pledges", "notification": "notifications", "frequencyrule": "pairings"}
    ids = {model: ContentType.objects.get_or_create(app_label="visits", model=model)[0].pk for model in moved}

    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert not {table for table in tables if table.startswith("visits_") and "visit" not in table[7:]}
    assert {"requests_request", "requests_historicalrequest", "pledges_historicalpledge"} <= tables
    assert list(Notification.objects.values_list("user__username", "message")) == [("迁移", "旧消息")]
    assert Request.objects.count() == Pledge.objects.count() == FrequencyRule.objects.count() == 0
    for model, label in moved.items():
        content_type = ContentType.objects.get(app_label=label, model=model)
        assert content_type.pk == ids[model]
        assert not ContentType.objects.filter(app_label="visits", model=model).exists()
