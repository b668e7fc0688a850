"""studies.extensions: what higher apps add to studies' pages, registered in their ready()."""

import pytest
from django.urls import reverse
from django.utils import translation

from studies.extensions import StudyLink, study_links
from studies.models import StudyStatus
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def labels(study, place, role=""):
    with translation.override("en"):
        return [str(link["label"]) for link in study_links(study, place=place, role=role)]


def test_the_staff_links_follow_the_role_in_the_order_of_the_work():
    study = StudyFactory(status=StudyStatus.OPEN)
    assert labels(study, "staff", "coordinator") == [
        "Manage the study",
        "Moderation",
        "Members and roles",
        "Statistics",
        "Exports",
    ]
    assert labels(study, "staff", "facilitator") == ["Moderation", "Members", "Statistics"]
    assert labels(study, "staff", "contributor") == []


def test_the_report_is_linked_only_once_the_study_closed():
    study = StudyFactory(status=StudyStatus.OPEN)
    assert labels(study, "card") == []
    assert "Participation report" not in labels(study, "staff", "facilitator")
    study.status = StudyStatus.CLOSED
    assert labels(study, "card") == ["Participation report"]
    assert labels(study, "staff", "facilitator")[-1] == "Participation report"
    links = study_links(study, place="closed")
    assert [link["url"] for link in links] == [reverse("reports:report", args=[study.slug])]


def test_every_study_header_links_its_statistics():
    study = StudyFactory()
    assert study_links(study, place="lead")[0]["url"] == reverse(
        "reports:statistics", args=[study.slug]
    )


def test_an_unknown_place_is_refused():
    with pytest.raises(ValueError):
        StudyLink("x", "X", "reports:report", "sidebar")
