"""The queue, the overview, figures, the log and its CSV, and the study page tools."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contributions.models import ItemState
from moderation import selectors, services
from moderation.models import Flag, FlagStatus
from studies.models import Role
from tests.factories import CommentFactory, ContributionFactory, StudyFactory
from tests.moderation.conftest import flagger, login, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(study, contribution):
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    services.flag_create(
        study=study, user=flagger(study), item=contribution, reason="spam", note="Link farm"
    )
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="abuse")
    return contribution


def test_queue_groups_open_flags_by_item_with_reasons_and_counts(study, flagged, author):
    other = ContributionFactory(study=study, author=author)
    services.flag_create(study=study, user=flagger(study), item=other, reason="off_topic")
    queue = selectors.moderation_queue(studies=[study])
    assert [g.item for g in queue.flagged] == [flagged, other]
    first = queue.flagged[0]
    assert first.people == 3
    assert first.reasons == [("spam", 2), ("abusive or offensive", 1)]
    assert first.notes == ["Link farm"]


def test_queue_lists_items_waiting_for_approval_and_filters(study, flagged, author):
    waiting = ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    waiting_comment = CommentFactory(contribution=flagged, author=author, state=ItemState.PENDING)
    queue = selectors.moderation_queue(studies=[study])
    assert [item for _, item in queue.pending] == [waiting, waiting_comment]
    assert selectors.moderation_queue(studies=[study], show="pending").flagged == []
    assert selectors.moderation_queue(studies=[study], show="flags").pending == []
    only_comments = selectors.moderation_queue(studies=[study], item_type="comment")
    assert only_comments.flagged == [] and len(only_comments.pending) == 1
    assert selectors.moderation_queue(studies=[study], reason="personal_data").flagged == []
    assert len(selectors.moderation_queue(studies=[study], reason="abuse").flagged) == 1


def test_queue_page_shows_flags_and_waiting_items(client, study, flagged, facilitator, author):
    ContributionFactory(study=study, author=author, state=ItemState.PENDING, title="Wait for me")
    login(client, facilitator)
    response = client.get(reverse("moderation:queue", args=[study.slug]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Flagged by 3 people" in content
    assert "Wait for me" in content
    assert f"/ws/moderation/{study.slug}/" in content


def test_queue_fragment_for_htmx(client, study, flagged, facilitator):
    login(client, facilitator)
    response = client.get(
        reverse("moderation:queue", args=[study.slug]) + "?show=flags", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "Flagged by 3 people" in response.content.decode()


def test_overview_covers_every_study_the_person_facilitates(client, study, flagged, facilitator):
    second = StudyFactory(title="Second study")
    from tests.factories import MembershipFactory

    MembershipFactory(study=second, user=facilitator, role=Role.FACILITATOR)
    ContributionFactory(study=second, state=ItemState.PENDING, title="Pending elsewhere")
    hidden_study = StudyFactory(title="Not mine")
    ContributionFactory(study=hidden_study, state=ItemState.PENDING, title="Not my business")
    login(client, facilitator)
    content = client.get(reverse("moderation:overview")).content.decode()
    assert "Second study" in content and "Pending elsewhere" in content
    assert "Flagged by 3 people" in content
    assert "Not my business" not in content and "Not mine" not in content


def test_overview_for_a_contributor_lists_nothing(client, study, flagged, contributor):
    login(client, contributor)
    response = client.get(reverse("moderation:overview"))
    assert response.status_code == 200
    assert "Flagged by" not in response.content.decode()


def test_figures_open_flags_median_time_and_actions(study, flagged, facilitator, author):
    now = timezone.now()
    Flag.objects.filter(contribution=flagged).update(created_at=now - timedelta(minutes=30))
    services.item_hide(study=study, actor=facilitator, item=flagged, reason="spam")
    Flag.objects.filter(contribution=flagged).update(handled_at=now)
    other = ContributionFactory(study=study, author=author)
    services.flag_create(study=study, user=flagger(study), item=other, reason="spam")
    figures = selectors.moderation_figures(studies=[study])
    assert figures.open_flags == 1 and figures.flagged_items == 1
    assert figures.handled_flags == 3
    assert figures.median_handle_seconds == pytest.approx(1800, abs=5)
    assert figures.median_handle_display == "30 min"
    actions = dict(figures.actions)
    assert actions["hidden"] == 1 and actions["hidden automatically after flags"] == 1


def test_item_page_shows_flags_notes_and_history(client, study, flagged, facilitator):
    services.note_add(study=study, actor=facilitator, item=flagged, body="Seen this one before")
    login(client, facilitator)
    url = reverse("moderation:item", args=[study.slug, "contribution", flagged.pk])
    content = client.get(url).content.decode()
    assert "Link farm" in content and "Seen this one before" in content
    assert "hidden automatically after flags" in content


def test_coordinator_views_and_downloads_the_log_as_escaped_csv(
    client, study, contribution, facilitator, coordinator
):
    services.item_hide(
        study=study, actor=facilitator, item=contribution, reason="off_topic", note="x"
    )
    services.log_action(
        study=study, actor=coordinator, action="export_named", reason="=HYPERLINK(1)"
    )
    login(client, coordinator)
    page = client.get(reverse("moderation:log", args=[study.slug]))
    assert page.status_code == 200 and "named export" in page.content.decode()
    response = client.get(reverse("moderation:log_csv", args=[study.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["time", "study", "by", "action"]
    reasons = {row[3]: row[6] for row in rows[1:]}
    assert reasons["export_named"] == "'=HYPERLINK(1)"
    assert reasons["hide"] == "off_topic"


def test_facilitators_and_contributors_cannot_read_the_log(client, study, facilitator, contributor):
    for user in (facilitator, contributor):
        login(client, user)
        assert client.get(reverse("moderation:log", args=[study.slug])).status_code == 403
        assert client.get(reverse("moderation:log_csv", args=[study.slug])).status_code == 403


def test_log_of_another_study_is_refused_to_its_non_coordinator(client, study, other_study):
    foreign = member(other_study, Role.COORDINATOR)
    login(client, foreign)
    assert client.get(reverse("moderation:log_csv", args=[study.slug])).status_code == 403


def test_csv_cell_escapes_formula_starts():
    from moderation.views import csv_cell

    assert [csv_cell(v) for v in ("=1+1", "+a", "-a", "@a", "\tx", "ok", None, 3)] == [
        "'=1+1",
        "'+a",
        "'-a",
        "'@a",
        "'\tx",
        "ok",
        "",
        "3",
    ]


# --- the study page -------------------------------------------------------------


def test_study_page_gives_members_the_flag_template(client, study, contribution, contributor):
    login(client, contributor)
    content = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert 'id="moderation-flag-template"' in content
    assert 'id="moderation-facilitator-template"' not in content
    assert "js/moderation.js" in content
    assert f"/moderation/{study.slug}/flag/__type__/0/" in content


def test_study_page_gives_facilitators_the_moderation_template(
    client, study, contribution, facilitator
):
    login(client, facilitator)
    content = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert 'id="moderation-facilitator-template"' in content
    assert 'id="moderation-flag-template"' not in content


def test_study_page_gives_visitors_no_moderation_tools(client, study, contribution):
    content = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert "moderation-page-tools" not in content


def test_dismissed_flags_leave_the_queue(study, flagged, facilitator):
    services.flags_dismiss(study=study, actor=facilitator, item=flagged)
    assert selectors.moderation_queue(studies=[study]).flagged == []
    assert not Flag.objects.filter(status=FlagStatus.OPEN).exists()
