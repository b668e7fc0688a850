"""The participation summaries: kept by triggers through every kind of change.

After each change the stored summaries must equal a rebuild from the items
(``summaries.differences``), and every figure read from them must equal what
the item-table SQL the module used before (tests/reports/reference_statistics)
computes — for the study, the platform, the staff overview and the
participant rows.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from accounts.models import Sector
from accounts.services import account_delete
from contributions import services as items
from contributions.models import Comment, Contribution, ItemState, ModerationReason
from reports import registry, summaries
from reports.models import (
    ParticipationDay,
    ParticipationMultiGroup,
    ParticipationOrganisation,
    ParticipationPerson,
    ParticipationSummary,
)
from reports.statistics import (
    platform_statistics,
    platform_study_rows,
    study_participant_rows,
    study_statistics,
)
from tests.contributions.factories import member, organisation
from tests.factories import StudyFactory, UserFactory
from tests.reports import statistics_fixtures
from tests.reports.reference_statistics import (
    reference_participant_rows,
    reference_statistics,
    reference_study_rows,
)
from tests.reports.statistics_fixtures import at, comment, contribution

_english = statistics_fixtures._english
figures_study = statistics_fixtures.figures_study


def figures(statistics) -> dict:
    data = statistics.to_dict()
    for key in ("generated_at", "study_slug", "study_title", "small_count_threshold"):
        data.pop(key)
    data["totals"].pop("for_organisations")  # not in the item-table reference
    data.pop("definitions_version")  # the reference is version 1's rule
    for key in ("unconfirmed_participants", "unconfirmed_organisations"):
        data["totals"].pop(key)  # version 2 only
    return data


def assert_consistent(*studies) -> None:
    """Summaries equal a rebuild; figures equal the item-table reference.

    The reference counts every organisation on an item, as definitions version
    1 does; version 2 reads the same summaries and the claims on top
    (tests/reports/test_claims.py).
    """
    assert summaries.differences() == []
    for study in studies:
        assert figures(study_statistics(study=study, version=1)) == figures(
            reference_statistics(study.pk)
        )
        assert study_participant_rows(study=study, version=1) == reference_participant_rows(
            study.pk
        )
    platform = figures(platform_statistics(version=1))
    reference = figures(reference_statistics(None))
    assert platform == reference
    overview = {
        row["study"].pk: (
            row["participants"],
            row["organisations"],
            row["contributions"],
            row["comments"],
        )
        for row in platform_study_rows(version=1)
        if row["participants"] or row["contributions"] or row["comments"]
    }
    assert overview == reference_study_rows()


def group(study, author, org=None):
    return ParticipationSummary.objects.get(study=study, author=author, acted_for=org)


@pytest.fixture
def world(figures_study):
    """The hand-computed study plus a second study the changes can move items to."""
    other = StudyFactory(title="Other study")
    figures_study.other = other
    return figures_study


pytestmark = pytest.mark.django_db


# --- the hand-computed study ---------------------------------------------------------


def test_the_hand_computed_study_is_summarised_exactly(world):
    assert_consistent(world.study, world.other)
    study, p1 = world.study, world.people["p1"]
    row = group(study, p1, world.orgs["A"])
    # c1, c2 and the withdrawn comment k1 (p1 for A).
    assert (row.contributions, row.comments) == (2, 1)
    assert (row.first_at, row.last_at) == (at("2026-03-01 10:00"), at("2026-03-02 12:00"))
    # The merged duplicate D keeps its own row: merges are resolved when reading.
    assert group(study, world.people["p2"], world.orgs["D"]).contributions == 1
    days = {
        str(d.day): (d.contributions, d.comments)
        for d in ParticipationDay.objects.filter(study=study)
    }
    assert days == {
        "2026-03-01": (1, 1),
        "2026-03-02": (3, 1),
        "2026-03-03": (2, 0),
        "2026-03-05": (1, 1),
    }
    # Nothing that does not count has a row: p5 (rejected) and the uncounted p3 items.
    assert not ParticipationSummary.objects.filter(author=world.people["p5"]).exists()
    assert ParticipationSummary.objects.filter(study=study).count() == 8
    # People: p1 posted for A and B, p2 for A and D (two rows, counted once in A).
    people = {
        p.author_id: (p.groups, str(p.first_day))
        for p in ParticipationPerson.objects.filter(study=study)
    }
    assert people == {
        world.people["p1"].pk: (2, "2026-03-01"),
        world.people["p2"].pk: (2, "2026-03-01"),  # k2, 22:59 UTC: Oslo 23:59
        world.people["p3"].pk: (1, "2026-03-03"),
        world.people["p4"].pk: (1, "2026-03-05"),  # k3, 23:15 UTC: Oslo 00:15
        world.people["p6"].pk: (1, "2026-03-03"),
        world.people["p7"].pk: (1, "2026-03-05"),
    }
    # Only people with several rows have their keys listed for the correction.
    multi = {
        (row.author_id, row.acted_for_id)
        for row in ParticipationMultiGroup.objects.filter(study=study)
    }
    p1, p2, orgs = world.people["p1"].pk, world.people["p2"].pk, world.orgs
    assert multi == {
        (p1, orgs["A"].pk),
        (p1, orgs["B"].pk),
        (p2, orgs["A"].pk),
        (p2, orgs["D"].pk),
    }
    keys = {
        (row.acted_for_id, row.participants, row.contributions, row.comments)
        for row in ParticipationOrganisation.objects.filter(study=study)
    }
    assert keys == {
        (orgs["A"].pk, 2, 2, 2),  # p1 (c1, c2, k1) and p2 (k2)
        (orgs["B"].pk, 2, 2, 0),  # p1 (c3) and p3 (c5)
        (orgs["C"].pk, 2, 2, 0),  # p6 and p7
        (orgs["D"].pk, 1, 1, 0),  # p2 (c4)
        (None, 1, 0, 1),  # p4 (k3)
    }


# --- every kind of change -------------------------------------------------------------


def test_posting_through_the_services(world):
    study, p8 = world.study, world.people["p8"]
    posted = items.contribution_create(study=study, author=p8, title="New", body="Text")
    assert_consistent(world.study, world.other)
    items.comment_create(contribution=posted, author=world.people["p1"], body="Reply")
    assert_consistent(world.study, world.other)
    assert study_statistics(study=study).totals.participants == 7


def test_pending_then_approved(world):
    pending = world.items["pending"]
    assert_consistent(world.study)
    items.item_change_state(item=pending, state=ItemState.PUBLISHED)
    assert_consistent(world.study, world.other)
    assert study_statistics(study=world.study).totals.contributions == 8


@pytest.mark.parametrize(
    ("reason", "counts"),
    [(ModerationReason.SPAM, False), (ModerationReason.ABUSE, False), ("off_topic", True)],
)
def test_hidden_for_spam_or_for_another_reason(world, reason, counts):
    c1 = world.items["c1"]  # p1's first item: first_at must move on
    items.item_change_state(item=c1, state=ItemState.HIDDEN, reason=reason)
    assert_consistent(world.study, world.other)
    row = group(world.study, world.people["p1"], world.orgs["A"])
    expected_first = "2026-03-01 10:00" if counts else "2026-03-01 23:30"
    assert row.first_at == at(expected_first)
    assert row.contributions == (2 if counts else 1)


def test_hidden_as_spam_then_restored(world):
    c5 = world.items["c5"]  # p3's only counted item: the group disappears, then returns
    items.item_change_state(item=c5, state=ItemState.HIDDEN, reason=ModerationReason.SPAM)
    assert not ParticipationSummary.objects.filter(author=world.people["p3"]).exists()
    assert_consistent(world.study, world.other)
    items.item_change_state(item=c5, state=ItemState.PUBLISHED)
    assert group(world.study, world.people["p3"], world.orgs["B"]).contributions == 1
    assert_consistent(world.study, world.other)


def test_withdrawn_by_the_author_still_counts(world):
    items.contribution_withdraw(contribution=world.items["c5"], user=world.people["p3"])
    assert group(world.study, world.people["p3"], world.orgs["B"]).contributions == 1
    assert_consistent(world.study, world.other)


def test_removed(world):
    items.item_change_state(
        item=world.items["k3"], state=ItemState.REMOVED, reason=ModerationReason.SPAM
    )
    # k3 was the only item of 2026-03-05 in Oslo besides c7.
    day = ParticipationDay.objects.get(study=world.study, day=dt.date(2026, 3, 5))
    assert (day.contributions, day.comments) == (1, 0)
    assert_consistent(world.study, world.other)


def test_an_item_removed_on_a_day_alone_removes_the_day(world):
    items.item_change_state(
        item=world.items["c6"], state=ItemState.REMOVED, reason=ModerationReason.ABUSE
    )
    items.item_change_state(
        item=world.items["c5"], state=ItemState.REMOVED, reason=ModerationReason.ABUSE
    )
    assert not ParticipationDay.objects.filter(study=world.study, day=dt.date(2026, 3, 3))
    assert_consistent(world.study, world.other)


def test_deleted_account_stays_counted(world):
    account_delete(user=world.people["p6"])
    assert group(world.study, world.people["p6"], world.orgs["C"]).contributions == 1
    assert_consistent(world.study, world.other)


def test_merging_organisations_rewrites_no_summary(world):
    staff = UserFactory(is_administrator=True)
    before = list(ParticipationSummary.objects.order_by("pk").values())
    registry.organisation_merge(
        source_id=world.orgs["B"].pk, target_id=world.orgs["C"].pk, user=staff
    )
    assert list(ParticipationSummary.objects.order_by("pk").values()) == before
    assert_consistent(world.study, world.other)
    totals = study_statistics(study=world.study).totals
    assert totals.organisations == 2


@pytest.mark.parametrize(
    "change",
    ["study", "author", "acted_for", "sector", "created_at", "to_individual"],
)
def test_an_item_moved(world, change):
    item = world.items["c3"]  # p1 for B, 03-02 09:00
    if change == "study":
        Contribution.objects.filter(pk=item.pk).update(study=world.other)
    elif change == "author":
        item.author = world.people["p8"]
    elif change == "acted_for":
        item.acted_for = world.orgs["C"]
    elif change == "sector":
        item.acted_for_sector = Sector.CIVIL
    elif change == "created_at":
        item.created_at = at("2026-02-27 08:00")
    elif change == "to_individual":
        item.acted_for, item.acted_for_sector = None, ""
    if change != "study":
        item.save()
    assert_consistent(world.study, world.other)


def test_an_edit_of_the_text_changes_nothing(world):
    c1 = world.items["c1"]
    before = list(ParticipationSummary.objects.order_by("pk").values())
    items.contribution_edit(contribution=c1, editor=world.people["p1"], title="T", body="New")
    assert list(ParticipationSummary.objects.order_by("pk").values()) == before
    assert_consistent(world.study)


def test_items_deleted_also_by_cascade(world):
    world.items["k2"].delete()
    assert_consistent(world.study, world.other)
    world.items["c1"].delete()  # and its comments k1, k3 and the abuse-hidden one
    assert not Comment.objects.filter(contribution_id=world.items["c1"].pk).exists()
    assert_consistent(world.study, world.other)


def test_a_deleted_study_leaves_no_summary(world):
    Contribution.objects.filter(study=world.study).delete()  # items are PROTECTed by nothing
    world.study.delete()
    assert not ParticipationSummary.objects.filter(study_id=world.study.pk).exists()
    assert not ParticipationDay.objects.filter(study_id=world.study.pk).exists()
    assert_consistent(world.other)


def test_bulk_queryset_updates(world):
    Contribution.objects.filter(study=world.study).update(
        state=ItemState.HIDDEN, moderation_reason=ModerationReason.SPAM
    )
    assert_consistent(world.study, world.other)
    assert study_statistics(study=world.study).totals.contributions == 0
    Contribution.objects.filter(study=world.study).update(
        state=ItemState.PUBLISHED, moderation_reason=""
    )
    assert_consistent(world.study, world.other)
    assert study_statistics(study=world.study).totals.contributions == 11
    Comment.objects.filter(contribution__study=world.study).update(study=world.other)
    assert_consistent(world.study, world.other)


def test_bulk_create_and_a_new_study(world):
    people = [member(world.other) for _ in range(3)]
    org = organisation(Sector.CIVIL, name="Volunteers")
    Contribution.objects.bulk_create(
        [
            Contribution(
                study=world.other,
                author=person,
                title="Bulk",
                body="Bulk",
                acted_for=org if n else None,
                acted_for_sector=org.sector if n else "",
                created_at=at(f"2026-04-0{n + 1} 12:00"),
                state=[ItemState.PUBLISHED, ItemState.PENDING, ItemState.WITHDRAWN][n],
            )
            for n, person in enumerate(people)
        ]
    )
    assert_consistent(world.study, world.other)
    assert study_statistics(study=world.other).totals.participants == 2


# --- rebuild_statistics ------------------------------------------------------------------


def test_check_finds_a_tampered_row_and_the_rebuild_repairs_it(world, capsys):
    call_command("rebuild_statistics", "--check")
    assert "no differences" in capsys.readouterr().out
    ParticipationSummary.objects.filter(author=world.people["p1"]).update(contributions=99)
    with pytest.raises(CommandError) as raised:
        call_command("rebuild_statistics", "--check")
    assert raised.value.returncode == 1
    output = capsys.readouterr().out
    assert f"author={world.people['p1'].pk}" in output and "99" in output
    # --check wrote nothing.
    assert ParticipationSummary.objects.filter(contributions=99).exists()
    call_command("rebuild_statistics")
    assert not ParticipationSummary.objects.filter(contributions=99).exists()
    assert_consistent(world.study, world.other)


def test_check_finds_wrong_keys_and_multi_group_rows(world, capsys):
    ParticipationMultiGroup.objects.filter(author=world.people["p1"]).delete()
    ParticipationOrganisation.objects.filter(acted_for=world.orgs["C"]).update(participants=1)
    with pytest.raises(CommandError):
        call_command("rebuild_statistics", "--check")
    output = capsys.readouterr().out
    assert "people with several groups: stored 2 rows, items say 4" in output
    assert f"organisation={world.orgs['C'].pk}" in output
    call_command("rebuild_statistics")
    assert_consistent(world.study, world.other)


def test_check_finds_a_wrong_participant(world, capsys):
    ParticipationPerson.objects.filter(author=world.people["p3"]).update(groups=2)
    with pytest.raises(CommandError):
        call_command("rebuild_statistics", "--check", "--study", world.study.slug)
    assert f"participant study={world.study.pk} author={world.people['p3'].pk}" in (
        capsys.readouterr().out
    )
    call_command("rebuild_statistics", "--study", world.study.slug)
    assert_consistent(world.study)


def test_check_finds_a_missing_day_and_a_row_too_many(world, capsys):
    ParticipationDay.objects.filter(study=world.study, day=dt.date(2026, 3, 1)).delete()
    ParticipationSummary.objects.create(
        study=world.other,
        author=world.people["p8"],
        contributions=1,
        first_at=at("2026-03-01 10:00"),
        last_at=at("2026-03-01 10:00"),
    )
    with pytest.raises(CommandError):
        call_command("rebuild_statistics", "--check")
    output = capsys.readouterr().out
    assert "day=2026-03-01" in output and "items say None" in output
    # One study only: the other study's difference stays until it is rebuilt.
    call_command("rebuild_statistics", "--study", world.study.slug)
    with pytest.raises(CommandError):
        call_command("rebuild_statistics", "--check")
    call_command("rebuild_statistics", "--check", "--study", world.study.slug)
    call_command("rebuild_statistics", "--study", world.other.slug)
    assert_consistent(world.study, world.other)


def test_rebuild_of_an_unknown_study_is_refused(world):
    with pytest.raises(CommandError) as raised:
        call_command("rebuild_statistics", "--study", "no-such-study")
    assert raised.value.returncode == 2


def test_a_missing_trigger_is_reported_and_put_back_after_migrate(world):
    name = f"{summaries.TRIGGER_PREFIX}insert_contributions_comment"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER {name} ON contributions_comment")
        else:
            cursor.execute(f"DROP TRIGGER {name}")
    assert summaries.differences() == [f"trigger missing: {name}"]
    summaries.ensure_triggers(using=connection.alias)
    assert summaries.differences() == []
    comment(world.items["c1"], world.people["p8"], None, "2026-03-09 10:00")
    assert_consistent(world.study)


# --- reading -------------------------------------------------------------------------


def test_study_statistics_reads_the_summaries_in_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        study_statistics(study=world.study, version=1)
    sql = captured.captured_queries[0]["sql"]
    for table in ("organisation", "multigroup", "day"):
        assert f"reports_participation{table}" in sql
    assert "contributions_contribution" not in sql and "contributions_comment" not in sql


def test_version_2_reads_the_summaries_and_the_claims_in_one_query(
    world, django_assert_num_queries
):
    with django_assert_num_queries(1) as captured:
        study_statistics(study=world.study)
    sql = captured.captured_queries[0]["sql"]
    for table in ("reports_participationsummary", "reports_participationday"):
        assert table in sql
    assert "accounts_affiliation" in sql
    assert "contributions_contribution" not in sql and "contributions_comment" not in sql


def test_first_day_of_a_participant_stays_exact_when_the_first_item_goes(world):
    # p2's first counted item is k2 (Oslo 03-01); hidden as spam, p2 is new on 03-02.
    items.item_change_state(
        item=world.items["k2"], state=ItemState.HIDDEN, reason=ModerationReason.SPAM
    )
    days = {d.day: d.new_participants for d in study_statistics(study=world.study).days}
    assert days["2026-03-01"] == 1 and days["2026-03-02"] == 1
    assert_consistent(world.study)


# --- PostgreSQL: concurrent posts -----------------------------------------------------


@pytest.fixture
def postgres_study(requires_postgres):
    """A study, for a test of PostgreSQL's row locking (SQLite serialises all writers)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    return StudyFactory()


def post_concurrently(study, org, first: tuple, second: tuple) -> None:
    """Two transactions: the first posts and stays open while the second posts."""
    first_inserted = threading.Event()
    errors: list[BaseException] = []

    def post(person, when: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                contribution(study, person, org, when)
                if hold:
                    first_inserted.set()
                    # Keep the summary rows locked while the other one posts.
                    threading.Event().wait(0.5)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    holding = threading.Thread(target=post, args=(*first, True))
    holding.start()
    assert first_inserted.wait(10)
    waiting = threading.Thread(target=post, args=(*second, False))
    waiting.start()
    holding.join(20)
    waiting.join(20)
    assert not errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_by_one_person_both_count(postgres_study):
    study = postgres_study
    org = organisation(Sector.PUBLIC, name="Concurrent")
    person = member(study, organisation=org)
    post_concurrently(study, org, (person, "2026-03-01 12:00"), (person, "2026-03-01 09:00"))
    row = group(study, person, org)
    assert (row.contributions, row.first_at, row.last_at) == (
        2,
        at("2026-03-01 09:00"),
        at("2026-03-01 12:00"),
    )
    assert ParticipationDay.objects.get(study=study).contributions == 2
    assert summaries.differences() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_new_people_posting_at_once_for_one_organisation_both_count(postgres_study):
    study = postgres_study
    org = organisation(Sector.PRIVATE, name="Concurrent Ltd")
    one, two = member(study, organisation=org), member(study, organisation=org)
    post_concurrently(study, org, (one, "2026-03-02 10:00"), (two, "2026-03-02 11:00"))
    key = ParticipationOrganisation.objects.get(study=study, acted_for=org)
    assert (key.participants, key.contributions) == (2, 2)
    day = ParticipationDay.objects.get(study=study)
    assert (day.contributions, day.new_participants) == (2, 2)
    totals = study_statistics(study=study).totals
    assert (totals.participants, totals.organisations) == (2, 1)
    assert summaries.differences() == []
