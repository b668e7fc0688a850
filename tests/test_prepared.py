"""core.prepared: a query compiled once gives what the ORM gives, with new values each run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from core.prepared import Prepared
from studies import access as study_access
from studies.access import StudyAccess, _study_access, study_for_user
from studies.models import Membership, Role, Study
from tests.contributions.factories import member, organisation
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


def memberships():
    """A fresh copy of the study access's member query (studies.access), not yet compiled."""
    return Prepared(study_access._MEMBERSHIP.build, **study_access._MEMBERSHIP.kinds)


def field_values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_prepared_get_builds_what_the_orm_builds_related_objects_included():
    study = StudyFactory()
    org = organisation(name="NAV")
    user = member(study, organisation=org)
    orm = Membership.objects.select_related("study", "organisation").get(
        study__slug=study.slug, user=user
    )
    prepared = memberships()
    got = prepared.get(slug=study.slug, user_id=user.pk)
    assert field_values(got) == field_values(orm)
    with CaptureQueriesContext(connection) as queries:
        assert field_values(got.study) == field_values(orm.study)
        assert got.organisation.name == "NAV"
    assert len(queries) == 0  # the related objects came with the row
    # Times come back as the ORM gives them: aware, in UTC.
    assert got.study.created_at == orm.study.created_at
    assert got.study.created_at.tzinfo is not None


def test_each_run_takes_its_own_values_and_compiles_once(monkeypatch):
    first, second = StudyFactory(), StudyFactory()
    a, b = member(first), member(second, role=Role.FACILITATOR)
    compiled = []
    as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: (compiled.append(1), as_sql(self, *a, **k))[1]
    )
    prepared = memberships()
    assert prepared.get(slug=first.slug, user_id=a.pk).study_id == first.pk
    got = prepared.get(slug=second.slug, user_id=b.pk)
    assert (got.study_id, got.role, got.organisation) == (second.pk, Role.FACILITATOR, None)
    assert prepared.get(slug=first.slug, user_id=b.pk) is None  # not a member of the first
    assert len(compiled) == 1


def test_no_row_is_none_and_text_is_a_value_never_sql():
    study = StudyFactory()
    user = member(study)
    prepared = memberships()
    assert prepared.get(slug="no-such-study", user_id=user.pk) is None
    assert prepared.get(slug="x' OR '1'='1", user_id=user.pk) is None
    assert Membership.objects.filter(study=study).count() == 1


def test_more_than_one_row_is_an_error():
    StudyFactory(title="Twin", slug="twin-a")
    StudyFactory(title="Twin", slug="twin-b")
    by_title = Prepared(lambda title: Study.objects.filter(title=title), title=str)
    with pytest.raises(Study.MultipleObjectsReturned):
        by_title.get(title="Twin")


def test_a_queryset_whose_value_does_not_reach_the_sql_is_refused():
    ignoring = Prepared(lambda slug: Study.objects.all(), slug=str)
    with pytest.raises(ValueError, match="not preparable"):
        ignoring.get(slug="anything")


def test_the_study_access_is_the_same_through_the_prepared_queries():
    study = StudyFactory()
    org = organisation(name="Statistisk sentralbyrå")
    user = member(study, organisation=org)
    stranger = UserFactory()
    access = _study_access(user, study.slug)
    assert isinstance(access, StudyAccess)
    assert (access.study.pk, access.membership.user_id, access.role) == (
        study.pk,
        user.pk,
        Role.CONTRIBUTOR,
    )
    assert access.membership.organisation.name == "Statistisk sentralbyrå"
    outside = _study_access(stranger, study.slug)
    assert outside.study.pk == study.pk and outside.membership is None
    assert _study_access(user, "no-such-study") is None
    with CaptureQueriesContext(connection) as queries:
        study_for_user(user, study.slug)
    assert len(queries) == 1  # the member's study and membership in one statement


def test_uuid_values_and_annotations_come_through():
    import uuid

    from django.db.models import Count

    from contributions.models import Comment
    from tests.factories import CommentFactory, ContributionFactory

    contribution = ContributionFactory()
    key = uuid.uuid4()
    comment = CommentFactory(contribution=contribution, idempotency_key=key)
    CommentFactory(contribution=contribution, parent=comment)
    by_key = Prepared(
        lambda key: Comment.objects.filter(idempotency_key=key).annotate(
            reply_count=Count("replies")
        ),
        key=uuid.UUID,
    )
    got = by_key.get(key=key)
    assert (got.pk, got.idempotency_key, got.reply_count) == (comment.pk, key, 1)
    assert by_key.get(key=uuid.uuid4()) is None


def test_a_parameter_of_another_kind_is_refused():
    from decimal import Decimal

    with pytest.raises(TypeError, match="int, a str or a UUID"):
        Prepared(lambda amount: Study.objects.filter(pk=amount), amount=Decimal).get(amount=1)


def test_a_number_no_integer_column_holds_matches_nothing():
    study = StudyFactory()
    user = member(study)
    prepared = memberships()
    assert prepared.get(slug=study.slug, user_id=10**23) is None
    assert prepared.get(slug=study.slug, user_id=-(10**23)) is None
    assert prepared.get(slug=study.slug, user_id=user.pk).user_id == user.pk
