from django.db import migrations

LEADERSHIP_ROLES = ["leading_cadre", "committee_member", "branch_secretary", "middle_cadre", "party_representative"]
CONTACT_REASONS = [
    "confused", "work_difficulty", "life_difficulty", "newly_hired", "struggling", "poor_student",
    "low_income", "hardship", "empty_nest", "left_behind", "ill", "petitioner",
]


def create_vocabularies(apps, schema_editor):
    LeadershipRole = apps.get_model("members", "LeadershipRole")
    ContactReason = apps.get_model("members", "ContactReason")
    for code in LEADERSHIP_ROLES:
        LeadershipRole.objects.get_or_create(code=code)
    for code in CONTACT_REASONS:
        ContactReason.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create_vocabularies, migrations.RunPython.noop)]
