"""One vote per person, however many identical requests arrive at once (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from polls.models import PollChoice, PollVote
from studies.models import StudyEvent
from tests.at_once import at_once
from tests.contributions.factories import member
from tests.factories import StudyFactory, login_as
from tests.polls.factories import make_poll

PARALLEL = 20


@pytest.fixture
def _fresh_cache_pools():
    """Twenty requests at once open up to twenty connections in the process's shared Redis
    pool (core.cache); close them after, so later tests meet the pool as they expect."""
    yield
    from core import cache as shared

    for client in list(shared._shared.values()):
        for pool in list(client._pools.values()):
            pool.disconnect()
            pool.reset()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_identical_votes_make_one_vote_and_one_event(
    requires_postgres, _fresh_cache_pools
):
    study = StudyFactory()
    poll = make_poll(study)
    option = poll.options.first()
    voter = member(study)
    clients = []
    for _ in range(PARALLEL):
        client = Client()
        login_as(client, voter)
        clients.append(client)
    url = reverse("polls:vote", kwargs={"slug": study.slug, "pk": poll.pk})

    def vote(client: Client) -> int:
        return client.post(url, {"option": [str(option.pk)]}, HTTP_HX_REQUEST="true").status_code

    statuses = at_once(vote, clients)
    assert len(statuses) == PARALLEL
    assert set(statuses) == {200}
    assert PollVote.objects.filter(poll=poll).count() == 1
    assert PollChoice.objects.filter(vote__poll=poll).count() == 1
    assert StudyEvent.objects.filter(study=study, kind="poll.results").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_vote_by_the_same_person():
    study = StudyFactory()
    poll = make_poll(study)
    voter = member(study)
    PollVote.objects.create(poll=poll, voter=voter)
    with pytest.raises(IntegrityError), transaction.atomic():
        PollVote.objects.create(poll=poll, voter=voter)
