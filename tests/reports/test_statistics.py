"""Statistics, definitions version 2, against a study worked out by hand (see conftest)."""

from __future__ import annotations

import pytest

from accounts.models import Sector
from accounts.services import account_delete
from contributions.models import ItemState, ModerationReason
from reports import statistics as stats
from reports.statistics import (
    DEFINITIONS_VERSION,
    definitions,
    headline,
    platform_statistics,
    small_count,
    study_participant_rows,
    study_statistics,
)
from studies.models import Membership, StudyStatus
from tests.contributions.factories import member, organisation
from tests.factories import StudyFactory
from tests.reports import statistics_fixtures
from tests.reports.statistics_fixtures import comment, contribution, day_row

# Fixtures shared with the page tests (a module, not a conftest, to keep the
# package's conftest free for everyone).
_english = statistics_fixtures._english
figures_study = statistics_fixtures.figures_study

pytestmark = pytest.mark.django_db


def org_rows(figures):
    return {r.name: (r.participants, r.contributions, r.comments) for r in figures.organisations}


def sector_rows(figures):
    return {
        r.sector: (r.organisations, r.participants, r.contributions, r.comments)
        for r in figures.sectors
    }


# --- totals ---------------------------------------------------------------------------


def test_totals_of_the_hand_computed_study(figures_study):
    totals = study_statistics(study=figures_study.study).totals
    assert (totals.participants, totals.members, totals.organisations, totals.individuals) == (
        6,
        8,
        3,
        1,
    )
    assert (totals.contributions, totals.comments, totals.items) == (7, 3, 10)


def test_statistics_carry_the_definitions_version_and_the_study(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert figures.definitions_version == DEFINITIONS_VERSION == 2
    assert figures.study_slug == figures_study.study.slug
    assert figures.small_count_threshold == 3


def test_withdrawn_items_count(figures_study):
    before = study_statistics(study=figures_study.study).totals
    item = figures_study.items["c5"]
    item.state = ItemState.WITHDRAWN
    item.save()
    after = study_statistics(study=figures_study.study).totals
    assert (after.contributions, after.participants) == (before.contributions, 6)


def test_items_removed_or_hidden_as_spam_or_abuse_do_not_count(figures_study):
    item = figures_study.items["c5"]  # p3's only counted item
    item.state, item.moderation_reason = ItemState.REMOVED, ModerationReason.SPAM
    item.save()
    totals = study_statistics(study=figures_study.study).totals
    assert (totals.contributions, totals.participants) == (6, 5)
    item.state, item.moderation_reason = ItemState.HIDDEN, ModerationReason.ABUSE
    item.save()
    assert study_statistics(study=figures_study.study).totals.participants == 5


def test_items_hidden_for_another_reason_count(figures_study):
    item = figures_study.items["c5"]
    for reason in (ModerationReason.OFF_TOPIC, ModerationReason.FLAGGED, ModerationReason.OTHER):
        item.state, item.moderation_reason = ItemState.HIDDEN, reason
        item.save()
        assert study_statistics(study=figures_study.study).totals.contributions == 7


def test_pending_and_rejected_items_do_not_count(figures_study):
    figures = study_statistics(study=figures_study.study)
    # p5 has only a rejected item, p4's pending contribution adds nothing.
    assert figures.totals.participants == 6
    assert "2026-03-04" not in [d.day for d in figures.days]
    item = figures_study.items["pending"]
    item.state = ItemState.PUBLISHED
    item.save()
    assert study_statistics(study=figures_study.study).totals.contributions == 8


def test_members_are_everyone_who_joined_participants_those_who_posted(figures_study):
    totals = study_statistics(study=figures_study.study).totals
    assert totals.members == 8  # p5 (rejected only) and p8 (never posted) included
    assert totals.participants == 6


def test_an_empty_study_has_zero_figures_and_no_rows():
    study = StudyFactory()
    member(study)
    figures = study_statistics(study=study)
    assert (figures.totals.participants, figures.totals.members) == (0, 1)
    assert figures.sectors == figures.organisations == figures.days == []


# --- organisations and sectors ----------------------------------------------------------------


def test_per_organisation_rows(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert org_rows(figures) == {
        "Agency for Digitalisation": (2, 3, 2),  # p1, p2 (p2 partly for the duplicate D)
        "Bits and Bytes AS": (2, 2, 0),  # p1, p3
        "College of Oslo": (2, 2, 0),  # p6, p7
    }
    a = figures.organisations[0]
    assert (a.id, a.org_number, a.sector) == (
        figures_study.orgs["A"].pk,
        figures_study.orgs["A"].org_number,
        Sector.PUBLIC,
    )


def test_a_person_who_acted_for_two_organisations_is_in_both_rows_and_once_in_totals(
    figures_study,
):
    figures = study_statistics(study=figures_study.study)
    rows = org_rows(figures)
    assert sum(p for p, _c, _m in rows.values()) == 6  # p1 in A and B
    assert figures.totals.participants == 6
    p1 = figures_study.people["p1"].pk
    p1_rows = [r for r in study_participant_rows(study=figures_study.study) if r.user_id == p1]
    assert [(r.organisation, r.contributions, r.comments) for r in p1_rows] == [
        ("Agency for Digitalisation", 2, 1),
        ("Bits and Bytes AS", 1, 0),
    ]


def test_merged_organisations_count_once_as_the_one_they_were_merged_into(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert "Agency for Digitalization" not in org_rows(figures)
    assert figures.totals.organisations == 3
    rows = study_participant_rows(study=figures_study.study)
    p2 = figures_study.people["p2"].pk
    assert [(r.organisation_id, r.contributions, r.comments) for r in rows if r.user_id == p2] == [
        (figures_study.orgs["A"].pk, 1, 1)
    ]


def test_a_person_who_changed_organisation_after_posting_counts_for_the_snapshot(
    figures_study,
):
    p7 = figures_study.people["p7"]
    Membership.objects.filter(study=figures_study.study, user=p7).update(
        organisation=figures_study.orgs["B"]
    )
    figures = study_statistics(study=figures_study.study)
    assert org_rows(figures)["College of Oslo"] == (2, 2, 0)
    assert org_rows(figures)["Bits and Bytes AS"] == (2, 2, 0)


def test_an_organisation_changing_sector_later_does_not_move_its_items(figures_study):
    c = figures_study.orgs["C"]
    c.sector = Sector.CIVIL
    c.save()
    assert sector_rows(study_statistics(study=figures_study.study))[Sector.ACADEMIA] == (
        1,
        2,
        2,
        0,
    )


def test_deleted_accounts_stay_counted(figures_study):
    account_delete(user=figures_study.people["p6"])
    figures = study_statistics(study=figures_study.study)
    assert figures.totals.participants == 6
    assert org_rows(figures)["College of Oslo"] == (2, 2, 0)


def test_by_sector_with_individuals_last(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert [r.sector for r in figures.sectors] == [
        Sector.PUBLIC,
        Sector.PRIVATE,
        Sector.ACADEMIA,
        stats.INDIVIDUALS,
    ]
    assert sector_rows(figures) == {
        Sector.PUBLIC: (1, 2, 3, 2),
        Sector.PRIVATE: (1, 2, 2, 0),
        Sector.ACADEMIA: (1, 2, 2, 0),
        "": (0, 1, 0, 1),
    }
    assert figures.sectors[-1].label == "Individuals"


def test_individuals_are_participants_with_items_for_no_organisation(figures_study):
    p1 = figures_study.people["p1"]
    comment(figures_study.items["c1"], p1, None, "2026-03-05 12:00")
    totals = study_statistics(study=figures_study.study).totals
    assert (totals.individuals, totals.participants) == (2, 6)  # p4 and now p1


# --- over time ----------------------------------------------------------------------------------


def test_per_day_in_oslo_time_with_cumulative_totals(figures_study):
    days = study_statistics(study=figures_study.study).days
    assert [day_row(d) for d in days] == [
        ("2026-03-01", 1, 1, 2, 2, 2),
        ("2026-03-02", 3, 1, 0, 6, 2),
        ("2026-03-03", 2, 0, 2, 8, 4),
        ("2026-03-05", 1, 1, 2, 10, 6),
    ]


def test_per_day_follows_summer_time():
    study = StudyFactory()
    person = member(study)
    # 22:30 UTC is 00:30 the next day in Oslo in summer (UTC+2), 23:30 the same day in winter.
    contribution(study, person, None, "2026-07-01 22:30")
    contribution(study, person, None, "2026-01-10 22:30")
    assert [d.day for d in study_statistics(study=study).days] == ["2026-01-10", "2026-07-02"]


# --- headline ---------------------------------------------------------------------------------


def test_headline_in_english(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert headline(figures, "en") == (
        "6 people contributed, 5 of them for 3 organisations in the public sector, the "
        "private sector and academia, with 7 contributions and 3 comments"
    )


def test_headline_in_bokmal(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert headline(figures, "nb") == (
        "6 personer bidro, 5 av dem for 3 organisasjoner i offentlig sektor, privat sektor og "
        "akademia, med 7 innspill og 3 kommentarer"
    )


def test_headline_groups_thousands_and_uses_the_singular(figures_study):
    figures = study_statistics(study=figures_study.study)
    figures.totals.participants, figures.totals.comments = 1204, 1
    figures.totals.organisations, figures.totals.contributions = 1, 1
    figures.totals.for_organisations = 1204
    figures.sectors = [s for s in figures.sectors if s.sector == Sector.PUBLIC]
    assert headline(figures, "en") == (
        "1,204 people contributed, all of them for 1 organisation in the public sector, "
        "with 1 contribution and 1 comment"
    )
    assert headline(figures, "nb") == (
        "1\u202f204 personer bidro, alle for 1 organisasjon i offentlig sektor, med 1 innspill "
        "og 1 kommentar"
    )


def test_headline_without_organisations_and_without_anyone():
    study = StudyFactory()
    person = member(study)
    assert headline(study_statistics(study=study), "en") == "No one has contributed yet."
    assert headline(study_statistics(study=study), "nb") == "Ingen har bidratt ennå."
    contribution(study, person, None, "2026-03-01 10:00")
    figures = study_statistics(study=study)
    assert headline(figures, "en") == "1 person contributed 1 contribution and 0 comments"
    assert headline(figures, "nb") == "1 person bidro med 1 innspill og 0 kommentarer"


# --- small counts, definitions, round trip -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "threshold", "shown"),
    [(1, 3, "<3"), (2, 3, "<3"), (3, 3, "3"), (0, 3, "0"), (1, 1, "1"), (1, 0, "1")],
)
def test_small_count(value, threshold, shown):
    assert small_count(value, threshold) == shown


def test_participant_display_hides_small_organisation_counts(figures_study):
    figures = study_statistics(study=figures_study.study)
    assert [figures.participant_display(r) for r in figures.organisations] == ["<3"] * 3
    figures.small_count_threshold = 2
    assert [figures.participant_display(r) for r in figures.organisations] == ["2"] * 3


def test_definitions_cover_every_rule_in_both_languages():
    keys = [key for key, _term, _text in definitions()]
    assert keys == [
        "counted_item",
        "participant",
        "member",
        "organisation",
        "unconfirmed_claims",
        "by_sector",
        "individuals",
        "over_time",
        "small_counts",
        "document_items",
        "headline",
        "closed_studies",
        "pseudonymous_rows",
    ]
    assert [key for key, _term, _text in definitions(1)] == [
        key for key in keys if key != "unconfirmed_claims"
    ][:8]
    from django.utils import translation

    with translation.override("nb"):
        assert definitions()[0][1] == "Talt innlegg"


def test_statistics_round_trip_through_a_dict(figures_study):
    figures = study_statistics(study=figures_study.study)
    again = stats.StudyStatistics.from_dict(figures.to_dict())
    assert again == figures


# --- queries and the platform ------------------------------------------------------------------


def test_study_statistics_is_one_query_whatever_the_size(figures_study, django_assert_num_queries):
    empty = StudyFactory()
    with django_assert_num_queries(1):
        study_statistics(study=figures_study.study)
    with django_assert_num_queries(1):
        study_statistics(study=empty)


def test_platform_statistics_across_studies(figures_study, django_assert_num_queries):
    other = StudyFactory(status=StudyStatus.CLOSED)
    e = organisation(Sector.CIVIL, name="Everyone's Association")
    p1 = figures_study.people["p1"]
    Membership.objects.create(study=other, user=p1, organisation=figures_study.orgs["B"])
    p9 = member(other, organisation=e)
    contribution(other, p1, figures_study.orgs["B"], "2026-03-01 11:00")
    contribution(other, p9, e, "2026-03-06 11:00")
    StudyFactory(status=StudyStatus.DRAFT)
    with django_assert_num_queries(1):
        figures = platform_statistics()
    totals = figures.totals
    # p1 counts once across studies; B once; E and p9 are new.
    assert (totals.participants, totals.organisations, totals.members) == (7, 4, 9)
    assert (totals.contributions, totals.comments) == (9, 3)
    assert figures.studies == {"closed": 1, "draft": 1, "open": 1}
    assert org_rows(figures)["Bits and Bytes AS"] == (2, 3, 0)
    assert sector_rows(figures)[Sector.CIVIL] == (1, 1, 1, 0)
    assert [(d.day, d.new_participants) for d in figures.days][-1] == ("2026-03-06", 1)
    assert figures.days[-1].cumulative_participants == 7


def test_platform_study_rows(figures_study):
    rows = {r["study"].pk: r for r in stats.platform_study_rows()}
    row = rows[figures_study.study.pk]
    assert (row["participants"], row["organisations"], row["contributions"], row["comments"]) == (
        6,
        3,
        7,
        3,
    )


def test_participant_rows_with_first_and_last_activity(figures_study):
    rows = study_participant_rows(study=figures_study.study)
    assert len(rows) == 7  # six participants, p1 twice (A and B)
    p4 = figures_study.people["p4"].pk
    [individual] = [r for r in rows if r.user_id == p4]
    assert (individual.organisation_id, individual.sector, individual.comments) == (None, "", 1)
    assert individual.first_activity == individual.last_activity == "2026-03-04T23:15:00+00:00"
    p1 = figures_study.people["p1"].pk
    [for_a] = [
        r for r in rows if r.user_id == p1 and r.organisation_id == figures_study.orgs["A"].pk
    ]
    assert (for_a.first_activity, for_a.last_activity) == (
        "2026-03-01T10:00:00+00:00",
        "2026-03-02T12:00:00+00:00",
    )
