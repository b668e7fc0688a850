"""studies 0002: stored events lose their HTML and keep only references in ``data``."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("studies", "0001_initial")]
AFTER = [("studies", "0002_studyevent_references")]


@pytest.fixture(autouse=True)
def _latest_migrations_afterwards():
    """Going back to studies 0001 unapplies every later migration that depends on it
    (search's tables among them); the tests after this one need them all again."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_events_are_scrubbed_of_text_and_names():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Study = old.get_model("studies", "Study")
    StudyEvent = old.get_model("studies", "StudyEvent")
    study = Study.objects.create(slug="old", title="Old")
    StudyEvent.objects.create(
        study=study,
        seq=1,
        kind="comment.created",
        key="comment-3",
        html="<p>Secret text by Ola Hemmelig</p>",
        data={
            "revision": 1,
            "item_type": "comment",
            "item_id": 3,
            "state": "published",
            "container": "contribution-2-comments",
            "html_alt": {"en": "<p>Secret text by Ola Hemmelig</p>"},
            "announce": {"nb": "Ny kommentar fra Ola Hemmelig"},
        },
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    event = new.get_model("studies", "StudyEvent").objects.get()
    assert event.data == {
        "revision": 1,
        "item_type": "comment",
        "item_id": 3,
        "state": "published",
        "container": "contribution-2-comments",
    }
    assert "html" not in {f.name for f in new.get_model("studies", "StudyEvent")._meta.fields}
