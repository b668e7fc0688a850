"""Study events become references: the stored HTML goes, and ``data`` keeps only ids,
states, revisions and placement (no HTML in other languages, no announcements with
titles or names). A resume renders items as they are now (docs/live.md)."""

from django.db import migrations

KEPT = {
    "revision",
    "container",
    "position",
    "item_type",
    "item_id",
    "state",
    "contribution_id",
    "parent_id",
    "section_id",
    "kind",
    "remove",
}
BATCH = 2000


def scrub(apps, schema_editor):
    StudyEvent = apps.get_model("studies", "StudyEvent")
    changed = []
    for event in StudyEvent.objects.only("pk", "data").iterator(chunk_size=BATCH):
        data = event.data if isinstance(event.data, dict) else {}
        kept = {
            k: v
            for k, v in data.items()
            if k in KEPT and (v is None or isinstance(v, (bool, int, str)))
        }
        if kept != event.data:
            event.data = kept
            changed.append(event)
        if len(changed) >= BATCH:
            StudyEvent.objects.bulk_update(changed, ["data"])
            changed = []
    if changed:
        StudyEvent.objects.bulk_update(changed, ["data"])


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]

    operations = [
        migrations.RunPython(scrub, migrations.RunPython.noop),
        migrations.RemoveField(model_name="studyevent", name="html"),
    ]
