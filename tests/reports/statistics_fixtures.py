"""A hand-computed study for the statistics and page tests (imported, not a conftest).

The figures every test expects are worked out by hand in STUDY_FIGURES (see
the comments in ``figures_study``): nothing here is computed by the module
under test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from accounts.models import Sector
from contributions.models import ItemState, ModerationReason
from studies.models import Role
from tests.contributions.factories import member, organisation
from tests.factories import CommentFactory, ContributionFactory, StudyFactory, give_mfa

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _english(in_english):
    """Assertions read English source strings unless a test asks for bokmål."""


def at(text: str) -> dt.datetime:
    """An aware UTC time from "YYYY-MM-DD HH:MM"."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@dataclass
class Figures:
    study: object
    orgs: dict
    people: dict
    items: dict


def day_row(day) -> tuple:
    """A day of the statistics as its export row has it."""
    return (
        day.day,
        day.contributions,
        day.comments,
        day.new_participants,
        day.cumulative_items,
        day.cumulative_participants,
    )


def _posted(author, org, when, state, reason) -> dict:
    """What a contribution and a comment are given alike: who, for whom, when, and how it stands."""
    return {
        "author": author,
        "acted_for": org,
        "acted_for_sector": org.sector if org else "",
        "created_at": at(when),
        "state": state,
        "moderation_reason": reason,
    }


def contribution(study, author, org, when, state=ItemState.PUBLISHED, reason=""):
    return ContributionFactory(study=study, **_posted(author, org, when, state, reason))


def comment(parent, author, org, when, state=ItemState.PUBLISHED, reason=""):
    return CommentFactory(contribution=parent, **_posted(author, org, when, state, reason))


@pytest.fixture
def figures_study(db) -> Figures:
    """Eight members, six participants, three organisations (one duplicate merged in).

    All times are in March 2026, before summer time: Oslo is UTC+1.

    counted contributions (7):
      c1 p1 for A  03-01 10:00 UTC (Oslo 03-01)
      c2 p1 for A  03-01 23:30 UTC (Oslo 03-02: the UTC date would be wrong)
      c3 p1 for B  03-02 09:00 (a second organisation for p1)
      c4 p2 for D  03-02 10:00 (D was merged into A: counts as A)
      c5 p3 for B  03-03 10:00
      c6 p6 for C  03-03 11:00 (p6's account is deleted afterwards)
      c7 p7 for C  03-05 10:00 (p7 now acts for B: the snapshot C wins)
    counted comments (3):
      k1 p1 for A  03-02 12:00, withdrawn by the author
      k2 p2 for A  03-01 22:59 UTC (Oslo 03-01 23:59), hidden as off-topic
      k3 p4 as an individual 03-04 23:15 UTC (Oslo 03-05 00:15)
    not counted (all on 03-04, so a wrong rule would add that day):
      p3: a contribution removed as spam, a contribution hidden as spam,
          a comment hidden as abuse; p4: a pending contribution;
      p5: a rejected contribution (p5 is a member, never a participant)
    p8 is a member who never posted.
    """
    study = StudyFactory(title="Digital assistant", small_count_threshold=3)
    a = organisation(Sector.PUBLIC, name="Agency for Digitalisation")
    b = organisation(Sector.PRIVATE, name="Bits and Bytes AS")
    c = organisation(Sector.ACADEMIA, name="College of Oslo")
    d = organisation(Sector.PUBLIC, name="Agency for Digitalization", merged_into=a)
    p1 = member(study, organisation=a)
    p2 = member(study, organisation=a)
    p3 = member(study, organisation=b)
    p4 = member(study)
    p5 = member(study)
    p6 = member(study, organisation=c)
    p7 = member(study, organisation=c)
    p8 = member(study)
    c1 = contribution(study, p1, a, "2026-03-01 10:00")
    items = {
        "c1": c1,
        "c2": contribution(study, p1, a, "2026-03-01 23:30"),
        "c3": contribution(study, p1, b, "2026-03-02 09:00"),
        "c4": contribution(study, p2, d, "2026-03-02 10:00"),
        "c5": contribution(study, p3, b, "2026-03-03 10:00"),
        "c6": contribution(study, p6, c, "2026-03-03 11:00"),
        "c7": contribution(study, p7, c, "2026-03-05 10:00"),
        "k1": comment(c1, p1, a, "2026-03-02 12:00", ItemState.WITHDRAWN),
        "k2": comment(c1, p2, a, "2026-03-01 22:59", ItemState.HIDDEN, ModerationReason.OFF_TOPIC),
        "k3": comment(c1, p4, None, "2026-03-04 23:15"),
        "spam_removed": contribution(
            study, p3, b, "2026-03-04 10:00", ItemState.REMOVED, ModerationReason.SPAM
        ),
        "spam_hidden": contribution(
            study, p3, b, "2026-03-04 14:00", ItemState.HIDDEN, ModerationReason.SPAM
        ),
        "abuse_hidden": comment(
            c1, p3, b, "2026-03-04 11:00", ItemState.HIDDEN, ModerationReason.ABUSE
        ),
        "pending": contribution(study, p4, None, "2026-03-04 12:00", ItemState.PENDING),
        "rejected": contribution(study, p5, None, "2026-03-04 13:00", ItemState.REJECTED),
    }
    people = {f"p{n}": p for n, p in enumerate([p1, p2, p3, p4, p5, p6, p7, p8], start=1)}
    return Figures(study=study, orgs={"A": a, "B": b, "C": c, "D": d}, people=people, items=items)


# --- people for the page tests ------------------------------------------------------


def staff_member(study, role):
    user = member(study, role=role)
    give_mfa(user)
    return user


@pytest.fixture
def coordinator(figures_study):
    return staff_member(figures_study.study, Role.COORDINATOR)


@pytest.fixture
def facilitator(figures_study):
    return staff_member(figures_study.study, Role.FACILITATOR)
