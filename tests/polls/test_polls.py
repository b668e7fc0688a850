"""Polls: creating, voting once, changing a vote, bad input, results per viewer, moderation."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moderation.models import ModerationLog
from polls import selectors, services
from polls.models import PollChoice, PollKind, PollRevision, PollVote, ResultsShown
from polls.selectors import people_only_voted_or_answered
from studies.models import MembershipStatus, Role, StudyEvent
from tests.contributions.factories import member, organisation
from tests.factories import (
    ContributionFactory,
    MembershipFactory,
    StudyFactory,
    UserFactory,
    login_as,
)
from tests.polls.factories import (
    client_for,
    coordinator,
    english,
    make_poll,
    post_as_coordinator,
)

pytestmark = pytest.mark.django_db


def ids(poll, *positions):
    options = list(poll.options.all())
    return [str(options[i].pk) for i in positions]


def vote_url(poll):
    return reverse("polls:vote", kwargs={"slug": poll.study.slug, "pk": poll.pk})


# --- creating ----------------------------------------------------------------------


def _new_poll(options: str) -> dict:
    return {"question": "Which one?", "options": options, "kind": "single", "results_shown": "live"}


def test_coordinator_adds_a_poll_through_the_form():
    study = StudyFactory()
    response = post_as_coordinator(study, "polls:create", _new_poll("A\nB\n\n"))
    assert response.status_code == 302
    poll = study.polls.get()
    assert [o.label for o in poll.options.all()] == ["A", "B"]
    event = StudyEvent.objects.get(study=study, kind="poll.created")
    assert event.data["item_id"] == poll.pk


def test_a_poll_with_fewer_than_two_options_is_refused_and_nothing_saved():
    study = StudyFactory()
    response = post_as_coordinator(study, "polls:create", _new_poll("Only one\n"))
    assert response.status_code == 422
    assert "at least two options" in response.content.decode()
    assert not study.polls.exists()
    assert not StudyEvent.objects.filter(study=study).exists()


def test_a_poll_that_closes_before_it_opens_is_refused():
    study = StudyFactory()
    now = timezone.now()
    with pytest.raises(services.PollError):
        make_poll(study, opens_at=now, closes_at=now - timezone.timedelta(hours=1))
    assert not study.polls.exists()


def test_a_contributor_cannot_add_a_poll():
    study = StudyFactory()
    with pytest.raises(PermissionDenied):
        make_poll(study, by=member(study))
    response = client_for(member(study)).post(
        reverse("polls:create", kwargs={"slug": study.slug}),
        {"question": "Q", "options": "A\nB", "kind": "single", "results_shown": "live"},
    )
    assert response.status_code == 403
    assert not study.polls.exists()


def test_a_facilitator_can_add_a_poll_to_a_section():
    from tests.factories import SectionFactory, give_mfa

    study = StudyFactory()
    section = SectionFactory(study=study)
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    poll = make_poll(study, by=facilitator, section_id=section.pk)
    assert poll.section == section


def test_a_section_of_another_study_is_refused():
    from tests.factories import SectionFactory

    study = StudyFactory()
    with pytest.raises(services.PollError):
        make_poll(study, section_id=SectionFactory().pk)


# --- voting --------------------------------------------------------------------------


def test_member_votes_once_and_the_vote_carries_the_organisation_snapshot():
    study = StudyFactory()
    poll = make_poll(study)
    org = organisation()
    voter = member(study)
    study.memberships.filter(user=voter).update(organisation=org)
    response = client_for(voter).post(vote_url(poll), {"option": ids(poll, 1)})
    assert response.status_code == 302
    vote = PollVote.objects.get(poll=poll, voter=voter)
    assert vote.acted_for == org and vote.acted_for_sector == org.sector
    assert list(vote.choices.values_list("option_id", flat=True)) == [int(ids(poll, 1)[0])]


def test_voting_again_with_the_same_choice_changes_nothing_and_records_nothing():
    study = StudyFactory()
    poll = make_poll(study)
    voter = member(study)
    services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 0))
    events = StudyEvent.objects.filter(study=study).count()
    vote, changed = services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 0))
    assert not changed
    assert PollVote.objects.filter(poll=poll).count() == 1
    assert StudyEvent.objects.filter(study=study).count() == events


def test_member_changes_their_vote_while_the_poll_is_open():
    study = StudyFactory()
    poll = make_poll(study)
    voter = member(study)
    services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 0))
    services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 2))
    counts = selectors.poll_counts(poll=poll)
    assert sorted(counts.counts.values()) == [0, 0, 1]
    assert counts.counts[int(ids(poll, 2)[0])] == 1
    assert PollVote.objects.filter(poll=poll).count() == 1


def test_changing_a_vote_too_often_is_refused_with_retry_after_and_the_last_vote_stays(
    settings,
):
    from django.core.cache import cache

    cache.clear()
    settings.POSTING_RATE_LIMIT = "2/m"
    study = StudyFactory()
    poll = make_poll(study)
    voter = member(study)
    client = client_for(voter)
    # The first vote and two changes pass; voting the same again changes nothing.
    for position in (0, 1, 1, 2):
        response = client.post(
            vote_url(poll), {"option": ids(poll, position)}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
    events = StudyEvent.objects.filter(study=study).count()
    response = client.post(vote_url(poll), {"option": ids(poll, 0)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "too often" in response.content.decode()
    vote = PollVote.objects.get(poll=poll, voter=voter)
    assert list(vote.choices.values_list("option_id", flat=True)) == [int(ids(poll, 2)[0])]
    assert StudyEvent.objects.filter(study=study).count() == events
    # Another person's first vote is not limited by this one's changes.
    assert services.poll_vote(poll=poll, user=member(study), option_ids=ids(poll, 0))[1]


@pytest.mark.parametrize(
    "when, message",
    [
        ({"opens_at": "future"}, "not open yet"),
        ({"closes_at": "past"}, "closed"),
    ],
)
def test_voting_outside_the_poll_times_is_refused(when, message):
    study = StudyFactory()
    now = timezone.now()
    kwargs = {
        key: now + timezone.timedelta(hours=1)
        if value == "future"
        else now - timezone.timedelta(hours=1)
        for key, value in when.items()
    }
    if "closes_at" in kwargs:
        kwargs["opens_at"] = now - timezone.timedelta(hours=2)
    poll = make_poll(study, **kwargs)
    voter = member(study)
    response = client_for(voter).post(
        vote_url(poll), {"option": ids(poll, 0)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert message in response.content.decode()
    assert not PollVote.objects.exists()


def test_voting_on_a_poll_closed_by_hand_is_refused_and_the_old_vote_stays():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss)
    voter = member(study)
    services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 0))
    services.poll_close(poll=poll, by=boss)
    with pytest.raises(services.PollError):
        services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 1))
    assert list(PollChoice.objects.values_list("option_id", flat=True)) == [int(ids(poll, 0)[0])]


def test_an_option_of_another_poll_is_refused():
    study = StudyFactory()
    poll, other = make_poll(study), make_poll(study)
    voter = member(study)
    response = client_for(voter).post(
        vote_url(poll), {"option": ids(other, 0)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "does not belong to this poll" in response.content.decode()
    assert not PollVote.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Choose an option"),
        ({"option": ["x1"]}, "does not belong"),
        ({"option": ["99999999999999999999999"]}, "does not belong"),
        ({"option": ["other"], "other_text": "Mine"}, "no “Other” option"),
    ],
)
def test_bad_votes_get_a_clear_message_and_save_nothing(data, message):
    study = StudyFactory()
    poll = make_poll(study)
    response = client_for(member(study)).post(vote_url(poll), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not PollVote.objects.exists()


def test_a_single_choice_poll_takes_one_choice():
    study = StudyFactory()
    poll = make_poll(study)
    response = client_for(member(study)).post(
        vote_url(poll), {"option": ids(poll, 0, 1)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert not PollVote.objects.exists()


def test_multiple_choice_and_other_with_text():
    study = StudyFactory()
    poll = make_poll(study, kind=PollKind.MULTIPLE, allow_other=True)
    voter = member(study)
    client_for(voter).post(
        vote_url(poll), {"option": ids(poll, 0, 2), "other": "1", "other_text": "  Event-driven "}
    )
    vote = PollVote.objects.get()
    assert vote.other_text == "Event-driven"
    assert vote.choices.count() == 2
    assert selectors.poll_counts(poll=poll).other == 1


def test_other_without_text_is_refused():
    study = StudyFactory()
    poll = make_poll(study, allow_other=True)
    response = client_for(member(study)).post(
        vote_url(poll), {"option": ["other"], "other_text": " "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert not PollVote.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "outsider", "blocked"])
def test_people_who_may_not_contribute_cannot_vote(who):
    study = StudyFactory()
    poll = make_poll(study)
    client = english()
    if who == "outsider":
        client.force_login(UserFactory())
    if who == "blocked":
        user = UserFactory()
        MembershipFactory(
            study=study, user=user, status=MembershipStatus.BLOCKED, blocked_reason="spam"
        )
        login_as(client, user)
    response = client.post(vote_url(poll), {"option": ids(poll, 0)})
    assert response.status_code in (302, 403)
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403
    assert not PollVote.objects.exists()


def test_a_poll_of_another_study_does_not_exist_here():
    study, other = StudyFactory(), StudyFactory()
    poll = make_poll(other)
    voter = member(study)
    url = reverse("polls:vote", kwargs={"slug": study.slug, "pk": poll.pk})
    assert client_for(voter).post(url, {"option": ids(poll, 0)}).status_code == 404
    assert not PollVote.objects.exists()


# --- editing after votes ---------------------------------------------------------------


def test_editing_wording_after_votes_is_recorded_and_structure_is_refused():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss)
    services.poll_vote(poll=poll, user=member(study), option_ids=ids(poll, 0))
    base = {
        "kind": poll.kind,
        "results_shown": poll.results_shown,
        "question": "Which architecture, really?",
        "options": ["Layered", "Micro-services", "Monolith"],
    }
    services.poll_update(poll=poll, by=boss, **base)
    poll.refresh_from_db()
    assert poll.question == "Which architecture, really?"
    revision = PollRevision.objects.get(poll=poll)
    assert revision.before["options"][1] == "Microservices"
    assert ModerationLog.objects.filter(action="poll_wording", target_id=poll.pk).exists()
    for change in (
        {"options": ["Layered", "Monolith"]},
        {"options": ["A", "B", "C", "D"]},
        {"kind": PollKind.MULTIPLE},
        {"results_shown": ResultsShown.AFTER_CLOSE},
    ):
        with pytest.raises(services.PollError) as error:
            services.poll_update(poll=poll, by=boss, **{**base, **change})
        assert error.value.status == 409
    poll.refresh_from_db()
    assert poll.options.count() == 3 and poll.kind == PollKind.SINGLE


def test_edit_page_refuses_structural_change_with_a_message():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss)
    services.poll_vote(poll=poll, user=member(study), option_ids=ids(poll, 0))
    response = client_for(boss).post(
        reverse("polls:edit", kwargs={"slug": study.slug, "pk": poll.pk}),
        {"question": "Q", "options": "A\nB", "kind": "single", "results_shown": "live"},
    )
    assert response.status_code == 409
    assert "only the wording" in response.content.decode()
    poll.refresh_from_db()
    assert poll.question == "Which architecture?"


def test_before_votes_everything_can_change():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss)
    services.poll_update(
        poll=poll, by=boss, question="New", options=["X", "Y"], kind=PollKind.MULTIPLE
    )
    assert [o.label for o in poll.options.all()] == ["X", "Y"]
    assert not PollRevision.objects.exists()


# --- results per viewer ------------------------------------------------------------------


def test_results_hidden_until_voting_are_absent_from_the_page_source_and_the_event():
    study = StudyFactory()
    poll = make_poll(study, results_shown=ResultsShown.AFTER_VOTE, options=("Alpha", "Beta"))
    first, second = member(study), member(study)
    services.poll_vote(poll=poll, user=first, option_ids=ids(poll, 0))
    page = client_for(second).get(reverse("study_detail", kwargs={"slug": study.slug}))
    html = page.content.decode()
    assert "Which architecture?" in html
    assert "poll-results" not in html.replace("poll-results-hidden", "")
    assert "poll-count" not in html
    assert 'data-results-visible="false"' in html
    detail = client_for(second).get(
        reverse("polls:detail", kwargs={"slug": study.slug, "pk": poll.pk})
    )
    assert "poll-count" not in detail.content.decode()
    event = StudyEvent.objects.filter(study=study, kind="poll.results").last()
    assert "counts" not in event.data and "voters" not in event.data
    # After voting, the same person sees them.
    response = client_for(second).post(
        vote_url(poll), {"option": ids(poll, 1)}, HTTP_HX_REQUEST="true"
    )
    assert 'class="num poll-count">1<' in response.content.decode()


def test_results_after_closing_show_once_closed_and_the_closing_event_carries_counts():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss, results_shown=ResultsShown.AFTER_CLOSE)
    voter = member(study)
    services.poll_vote(poll=poll, user=voter, option_ids=ids(poll, 0))
    assert (
        "poll-count"
        not in client_for(voter)
        .get(reverse("polls:detail", kwargs={"slug": study.slug, "pk": poll.pk}))
        .content.decode()
    )
    services.poll_close(poll=poll, by=boss)
    event = StudyEvent.objects.filter(study=study, kind="poll.state").last()
    assert event.data["counts"][ids(poll, 0)[0]] == 1
    anonymous = english().get(reverse("polls:detail", kwargs={"slug": study.slug, "pk": poll.pk}))
    assert "poll-count" in anonymous.content.decode()


def test_facilitators_see_hidden_results():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss, results_shown=ResultsShown.AFTER_VOTE)
    services.poll_vote(poll=poll, user=member(study), option_ids=ids(poll, 0))
    detail = client_for(boss).get(
        reverse("polls:detail", kwargs={"slug": study.slug, "pk": poll.pk})
    )
    assert "poll-count" in detail.content.decode()


def test_live_results_event_carries_counts_only():
    study = StudyFactory()
    poll = make_poll(study)
    services.poll_vote(poll=poll, user=member(study), option_ids=ids(poll, 1))
    event = StudyEvent.objects.filter(study=study, kind="poll.results").last()
    assert event.key == poll.dom_id
    assert set(event.data) == {
        "item_type",
        "item_id",
        "revision",
        "state",
        "section_id",
        "counts",
        "other",
        "voters",
    }
    assert event.data["counts"] == {ids(poll, 0)[0]: 0, ids(poll, 1)[0]: 1, ids(poll, 2)[0]: 0}


# --- moderation of "other" texts ----------------------------------------------------------


def test_other_text_is_flagged_then_hidden_from_the_page_but_still_counted():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss, allow_other=True)
    author, reader = member(study), member(study)
    vote, _ = services.poll_vote(
        poll=poll, user=author, option_ids=[], other=True, other_text="Call 555-1234"
    )
    flag = reverse("polls:vote_flag", kwargs={"slug": study.slug, "pk": vote.pk})
    assert client_for(reader).post(flag).status_code == 200
    assert client_for(reader).post(flag).status_code == 200  # once per person
    vote.refresh_from_db()
    assert vote.text_flags == 1
    hide = reverse("polls:vote_hide", kwargs={"slug": study.slug, "pk": vote.pk})
    assert client_for(reader).post(hide, {"action": "hide", "reason": "x"}).status_code == 403
    response = client_for(boss).post(hide, {"action": "hide", "reason": "personal data"})
    assert response.status_code == 302
    page = client_for(reader).get(reverse("study_detail", kwargs={"slug": study.slug}))
    assert "555-1234" not in page.content.decode()
    assert selectors.poll_counts(poll=poll).other == 1
    assert ModerationLog.objects.filter(action="text_hide", target_id=vote.pk).exists()


def test_hiding_without_a_reason_is_refused():
    study = StudyFactory()
    boss = coordinator(study)
    poll = make_poll(study, by=boss, allow_other=True)
    vote, _ = services.poll_vote(
        poll=poll, user=member(study), option_ids=[], other=True, other_text="Text"
    )
    with pytest.raises(services.PollError):
        services.vote_text_moderate(vote=vote, by=boss, hide=True, reason=" ")
    vote.refresh_from_db()
    assert not vote.text_hidden


# --- counted apart --------------------------------------------------------------------


def test_people_who_only_voted_are_counted_apart_from_participants():
    study = StudyFactory()
    poll = make_poll(study)
    only_voter, poster = member(study), member(study)
    ContributionFactory(study=study, author=poster)
    services.poll_vote(poll=poll, user=only_voter, option_ids=ids(poll, 0))
    services.poll_vote(poll=poll, user=poster, option_ids=ids(poll, 1))
    assert people_only_voted_or_answered(study_id=study.pk) == 1
    page = english().get(reverse("reports:statistics", kwargs={"slug": study.slug}))
    assert "1 person only voted in a poll or answered a survey" in page.content.decode()


def test_refusals_are_in_bokmal_for_a_norwegian_page():
    study = StudyFactory()
    poll = make_poll(study)
    client = Client()
    client.cookies["django_language"] = "nb"
    client.force_login(member(study))
    response = client.post(vote_url(poll), {}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 422
    assert "Velg et alternativ før du stemmer." in response.content.decode()


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_poll_texts_are_escaped(payload):
    study = StudyFactory()
    poll = make_poll(study, options=(payload, "B"), allow_other=True)
    poll.question = payload
    poll.save(update_fields=["question"])
    services.poll_vote(poll=poll, user=member(study), option_ids=[], other=True, other_text=payload)
    html = english().get(reverse("study_detail", kwargs={"slug": study.slug})).content.decode()
    section = html[html.index('id="polls"') : html.index("contributions-heading")]
    assert payload not in section
    assert "&lt;" in section
