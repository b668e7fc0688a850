"""Polls in two browsers: results move live where they may be seen, and nowhere else."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from polls import services
from polls.models import ResultsShown
from studies.models import Role
from tests.browser.conftest import in_thread
from tests.browser.test_flows import _not_reloaded, _signed_in_page, _study_page
from tests.contributions.factories import member
from tests.factories import StudyFactory, give_mfa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _poll(study, results_shown):
    boss = give_mfa(member(study, role=Role.COORDINATOR))
    return services.poll_create(
        study=study,
        by=boss,
        question="Which architecture?",
        options=["Layered", "Microservices"],
        results_shown=results_shown,
    )


def _count(page, poll, option):
    return page.locator(f"#{poll.dom_id} tr[data-option-id='{option.pk}'] .poll-count")


def test_a_vote_in_one_browser_moves_the_results_in_another(new_page, asgi_server):
    study = StudyFactory()
    poll = in_thread(_poll, study, ResultsShown.LIVE)
    layered = poll.options.first()
    voter = member(study)
    watcher = new_page(language="en")  # an anonymous visitor
    _study_page(watcher, study)
    expect(_count(watcher, poll, layered)).to_have_text("0")
    page = _signed_in_page(new_page, voter, study)
    page.locator(f"#{poll.dom_id} input[value='{layered.pk}']").check()
    page.locator(f"#{poll.dom_id} button[type=submit]").click()
    expect(page.locator(f"#{poll.dom_id}")).to_contain_text("Change my vote")
    expect(_count(page, poll, layered)).to_have_text("1")
    expect(_count(watcher, poll, layered)).to_have_text("1")
    expect(watcher.locator(f"#{poll.dom_id} .poll-voters")).to_have_text("1")
    assert _not_reloaded(watcher)
    assert watcher.console_errors == [] and page.console_errors == []


def test_results_hidden_until_voting_appear_only_for_those_who_voted(new_page, asgi_server):
    study = StudyFactory()
    poll = in_thread(_poll, study, ResultsShown.AFTER_VOTE)
    layered = poll.options.first()
    first, second = member(study), member(study)
    early = _signed_in_page(new_page, first, study)
    late = _signed_in_page(new_page, second, study)
    expect(late.locator(f"#{poll.dom_id} .poll-results-hidden")).to_have_count(1)
    early.locator(f"#{poll.dom_id} input[value='{layered.pk}']").check()
    early.locator(f"#{poll.dom_id} button[type=submit]").click()
    expect(_count(early, poll, layered)).to_have_text("1")
    # The other page got the event, but nothing to count and nothing to fetch.
    late.wait_for_timeout(1_500)
    expect(late.locator(f"#{poll.dom_id} .poll-count")).to_have_count(0)
    assert "poll-count" not in late.content()
    # Once the second person votes, the first page fetches the new figures for itself.
    in_thread(services.poll_vote, poll=poll, user=second, option_ids=[layered.pk])
    expect(_count(early, poll, layered)).to_have_text("2")
    assert _not_reloaded(early)


def test_a_poll_added_while_the_page_is_open_appears(new_page, asgi_server):
    study = StudyFactory()
    watcher = new_page(language="en")
    _study_page(watcher, study)
    expect(watcher.locator("#polls-heading")).to_be_hidden()
    poll = in_thread(_poll, study, ResultsShown.LIVE)
    expect(watcher.locator(f"#{poll.dom_id}")).to_contain_text("Which architecture?")
    expect(watcher.locator("#polls-heading")).to_be_visible()
    assert _not_reloaded(watcher)
