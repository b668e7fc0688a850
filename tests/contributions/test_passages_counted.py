"""Passage comments and amendments are moderated, counted and published like the rest."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from rest_framework.test import APIClient

from contributions import passages
from contributions.models import Amendment, ItemState
from moderation import services as moderation
from reports.statistics import definitions, study_statistics
from studies.models import ModerationMode, StudyStatus
from tests.contributions.passage_setup import document_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(settings):
    doc = document_study(settings)
    return doc.study, doc.facilitator, doc.blocks, doc.kari, doc.ola


def test_passage_comments_and_amendments_count_as_contributions_with_their_snapshot(setup):
    study, facilitator, blocks, kari, ola = setup
    passages.passage_comment_create(study=study, author=kari, anchor=blocks[1].anchor, body="a")
    kept = passages.amendment_create(
        study=study, author=ola, anchor=blocks[1].anchor, wording="New words.", reason="b"
    )
    spam = passages.amendment_create(
        study=study, author=ola, anchor=blocks[2].anchor, wording="- Buy now", reason="c"
    )
    moderation.item_remove(study=study, actor=facilitator, item=spam, reason="spam")
    passages.amendment_support(contribution=kept, user=kari)  # a reaction: counts nothing
    totals = study_statistics(study=study).totals
    assert (totals.participants, totals.contributions, totals.comments) == (2, 2, 0)
    assert (totals.organisations, totals.individuals) == (1, 1)
    assert "document_items" in [key for key, _t, _x in definitions()]


def test_pre_moderated_passage_comments_wait_and_appear_once_approved(setup):
    study, facilitator, blocks, kari, _o = setup
    study.moderation_mode = ModerationMode.PRE
    study.save()
    item = passages.passage_comment_create(
        study=study, author=kari, anchor=blocks[1].anchor, body="Waiting"
    )
    assert item.state == ItemState.PENDING
    assert passages.block_items(study=study, block=blocks[1]) == []
    assert study_statistics(study=study).totals.contributions == 0
    moderation.item_approve(study=study, actor=facilitator, item=item)
    assert [p.contribution_id for p in passages.block_items(study=study, block=blocks[1])] == [
        item.pk
    ]
    assert passages.block_counts(study=study, version=blocks[1].version)[blocks[1].anchor] == {
        "comments": 1,
        "amendments": 0,
    }


def test_a_flagged_and_hidden_amendment_takes_no_decision(setup):
    study, facilitator, blocks, kari, ola = setup
    amendment = passages.amendment_create(
        study=study, author=kari, anchor=blocks[1].anchor, wording="New words.", reason="b"
    )
    _flag, created = moderation.flag_create(study=study, user=ola, item=amendment, reason="abuse")
    assert created
    moderation.item_hide(study=study, actor=facilitator, item=amendment, reason="abuse")
    amendment.refresh_from_db()
    assert amendment.state == ItemState.HIDDEN
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        passages.amendment_decide(
            contribution=amendment, by=facilitator, status="accepted", reason="x"
        )
    assert Amendment.objects.get().status == "open"


def test_the_api_and_the_open_data_carry_the_passage_and_the_amendment(setup):
    study, facilitator, blocks, kari, ola = setup
    comment = passages.passage_comment_create(
        study=study, author=kari, anchor=blocks[1].anchor, body="a", quote="one place"
    )
    amendment = passages.amendment_create(
        study=study, author=ola, anchor=blocks[1].anchor, wording="New words.", reason="b"
    )
    passages.amendment_decide(
        contribution=amendment, by=facilitator, status="declined", reason="Too vague."
    )
    hidden = passages.amendment_create(
        study=study, author=ola, anchor=blocks[2].anchor, wording="- Secret", reason="c"
    )
    moderation.item_hide(study=study, actor=facilitator, item=hidden, reason="personal_data")
    api = APIClient()
    rows = {
        r["id"]: r
        for r in api.get(f"/api/v1/studies/{study.slug}/contributions/").json()["results"]
    }
    assert rows[comment.pk]["kind"] == "passage"
    assert rows[comment.pk]["quote"] == "one place"
    assert rows[comment.pk]["passage_anchor"] == blocks[1].anchor
    assert rows[comment.pk]["passage_version"] == "0.8"
    assert rows[amendment.pk]["amendment_wording"] == "New words."
    assert rows[amendment.pk]["amendment_status"] == "declined"
    assert rows[amendment.pk]["amendment_decision_reason"] == "Too vague."
    assert rows[hidden.pk]["amendment_wording"] is None  # hidden: a marker without text
    assert rows[hidden.pk]["state"] == "hidden"
    study.status = StudyStatus.CLOSED
    study.save()
    response = api.get(f"/api/v1/studies/{study.slug}/open-data/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    text = archive.read("contributions.csv").decode("utf-8-sig")
    csv_rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(text))}
    assert csv_rows[amendment.pk]["amendment_status"] == "declined"
    assert csv_rows[comment.pk]["passage_anchor"] == blocks[1].anchor
    assert "Secret" not in text
