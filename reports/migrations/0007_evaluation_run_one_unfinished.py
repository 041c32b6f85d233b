from django.db import migrations, models
from django.utils import timezone

SUPERSEDED = "另一次评议计算已在进行；这一次未运行。/ Another evaluation run was under way; this one did not run."


def fail_all_but_the_newest_unfinished_run(apps, schema_editor):
    """Before the constraint: of several unfinished runs for one term and subtree, the newest stays."""
    EvaluationRun = apps.get_model("reports", "EvaluationRun")
    kept: set[tuple[int, int]] = set()
    superseded = []
    for run in EvaluationRun.objects.filter(status__in=["queued", "running"]).order_by("-created_at", "-id"):
        key = (run.term_id, run.organisation_id)
        if key in kept:
            superseded.append(run.pk)
        kept.add(key)
    EvaluationRun.objects.filter(pk__in=superseded).update(
        status="failed", message=SUPERSEDED, finished_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_job_heartbeat"),
    ]

    operations = [
        migrations.RunPython(fail_all_but_the_newest_unfinished_run, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="evaluationrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=("term", "organisation"),
                name="evaluation_run_one_unfinished",
            ),
        ),
    ]
