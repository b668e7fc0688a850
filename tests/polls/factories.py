"""Polls for tests."""

from __future__ import annotations

from polls import services
from polls.models import ResultsShown
from studies.models import Role
from tests.contributions.factories import member
from tests.factories import give_mfa


def coordinator(study):
    return give_mfa(member(study, role=Role.COORDINATOR))


def make_poll(study, *, by=None, options=("Layered", "Microservices", "Monolith"), **kwargs):
    by = by or coordinator(study)
    kwargs.setdefault("results_shown", ResultsShown.LIVE)
    return services.poll_create(
        study=study, by=by, question="Which architecture?", options=list(options), **kwargs
    )
