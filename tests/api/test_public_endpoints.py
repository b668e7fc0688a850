"""Public endpoints: what a visitor, a harvester or anyone with a token reads."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contributions.models import Contribution, ItemState
from studies.models import StudyStatus, Visibility
from tests.api.factories import coordinator_of, members_only_study, seed_study, token_for
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    SectionFactory,
    StudyFactory,
    login_as,
)

pytestmark = pytest.mark.django_db


def _urls(slug: str) -> list[str]:
    return [
        f"/api/v1/studies/{slug}/",
        f"/api/v1/studies/{slug}/sections/",
        f"/api/v1/studies/{slug}/contributions/",
        f"/api/v1/studies/{slug}/comments/",
        f"/api/v1/studies/{slug}/statistics/",
        f"/api/v1/studies/{slug}/open-data/",
    ]


def test_study_list_shows_open_closed_and_archived_public_studies_only(api):
    shown = [StudyFactory(status=s) for s in ("open", "closed", "archived")]
    StudyFactory(status=StudyStatus.DRAFT)
    StudyFactory(visibility=Visibility.MEMBERS)
    response = api.get("/api/v1/studies/")
    assert response.status_code == 200
    assert [s["slug"] for s in response.json()["results"]] == [s.slug for s in shown]
    assert response.json()["count"] == 3


@pytest.mark.parametrize("visibility,status", [("members", "open"), ("public", "draft")])
def test_members_only_and_draft_studies_are_not_found_on_every_endpoint(api, visibility, status):
    study = StudyFactory(visibility=visibility, status=status)
    ContributionFactory(study=study)
    for url in _urls(study.slug):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


def test_members_only_study_stays_invisible_to_its_coordinators_token(api):
    study = members_only_study()
    coordinator = coordinator_of(study)
    _token, secret = token_for(coordinator)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/studies/").json()["count"] == 0
    for url in _urls(study.slug):
        assert api.get(url).status_code == 404, url


def test_members_only_study_is_invisible_to_its_signed_in_member(api):
    study = members_only_study()
    member = MembershipFactory(study=study).user
    login_as(api, member)
    assert api.get(f"/api/v1/studies/{study.slug}/").status_code == 404


def test_study_detail_has_metadata_sections_in_order_and_links(api, data):
    study = data["study"]
    response = api.get(f"/api/v1/studies/{study.slug}/")
    body = response.json()
    assert response.status_code == 200
    assert body["title"] == study.title
    assert "<h2>The concept</h2>" in body["body_html"]
    assert [s["id"] for s in body["sections"]] == [s.pk for s in data["sections"]]
    assert body["links"]["contributions"].endswith(f"/api/v1/studies/{study.slug}/contributions/")
    assert body["links"]["open_data"] is None  # still open
    assert body["created_at"].endswith("Z")


def test_closed_study_links_to_its_open_data(api):
    study = StudyFactory(status=StudyStatus.CLOSED)
    body = api.get(f"/api/v1/studies/{study.slug}/").json()
    assert body["links"]["open_data"].endswith(f"/api/v1/studies/{study.slug}/open-data/")


def test_sections_are_listed_in_their_order(api, data):
    study = data["study"]
    # Orders around the fixture's (the factory's sequence grows through the run).
    late = SectionFactory(study=study, order=max(s.order for s in data["sections"]) + 1)
    early = SectionFactory(study=study, order=0)
    response = api.get(f"/api/v1/studies/{study.slug}/sections/")
    ids = [s["id"] for s in response.json()["results"]]
    assert ids == [early.pk, *(s.pk for s in data["sections"]), late.pk]


def test_published_contribution_shows_text_author_display_name_and_organisation(api, data):
    response = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/")
    item = next(i for i in response.json()["results"] if i["id"] == data["published"].pk)
    assert item["title"] == "Use plain language"
    assert item["body"] == "Some **text**."
    assert item["author"] == "Kari Nordmann"
    assert item["organisation"] == "Statens vegvesen"
    assert item["sector"] == "public"
    assert item["state"] == "published" and item["reason"] is None


def test_email_addresses_never_appear(api, data):
    slug = data["study"].slug
    for url in _urls(slug)[:5]:
        assert b"@example.org" not in api.get(url).content, url


def test_hidden_and_removed_contributions_are_markers_with_state_and_reason_only(api, data):
    results = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/").json()["results"]
    by_id = {i["id"]: i for i in results}
    hidden, removed = by_id[data["hidden"].pk], by_id[data["removed"].pk]
    assert hidden["state"] == "hidden" and hidden["reason"] == "spam"
    assert removed["state"] == "removed" and removed["reason"] == "abuse"
    for marker in (hidden, removed):
        for field in ("title", "body", "body_html", "author", "organisation", "sector"):
            assert marker[field] is None, field
    assert (
        b"secret spam text"
        not in api.get(f"/api/v1/studies/{data['study'].slug}/contributions/").content
    )
    assert (
        b"private note"
        not in api.get(
            f"/api/v1/studies/{data['study'].slug}/contributions/{data['hidden'].pk}/"
        ).content
    )


def test_withdrawn_contribution_is_a_marker_without_reason(api, data):
    withdrawn = ContributionFactory(study=data["study"], state=ItemState.WITHDRAWN, title="Gone")
    item = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/{withdrawn.pk}/").json()
    assert item["state"] == "withdrawn" and item["reason"] is None and item["title"] is None


def test_pending_and_rejected_contributions_are_not_listed_nor_found(api, data):
    slug = data["study"].slug
    ids = {i["id"] for i in api.get(f"/api/v1/studies/{slug}/contributions/").json()["results"]}
    assert ids == {data["published"].pk, data["hidden"].pk, data["removed"].pk}
    for item in (data["pending"], data["rejected"]):
        assert api.get(f"/api/v1/studies/{slug}/contributions/{item.pk}/").status_code == 404


def test_contribution_of_another_study_is_not_found_under_this_one(api, data):
    other = ContributionFactory()
    url = f"/api/v1/studies/{data['study'].slug}/contributions/{other.pk}/"
    assert api.get(url).status_code == 404


def test_comments_list_published_with_text_and_moderated_as_markers(api, data):
    results = api.get(f"/api/v1/studies/{data['study'].slug}/comments/").json()["results"]
    by_id = {c["id"]: c for c in results}
    assert set(by_id) == {data["comment"].pk, data["reply"].pk, data["hidden_comment"].pk}
    assert by_id[data["comment"].pk]["body"] == "Agreed"
    assert by_id[data["comment"].pk]["author"] == "Kari Nordmann"
    assert by_id[data["reply"].pk]["parent"] == data["comment"].pk
    hidden = by_id[data["hidden_comment"].pk]
    assert hidden["reason"] == "off_topic" and hidden["body"] is None and hidden["author"] is None
    assert (
        b"pending words" not in api.get(f"/api/v1/studies/{data['study'].slug}/comments/").content
    )
    assert (
        b"under pending" not in api.get(f"/api/v1/studies/{data['study'].slug}/comments/").content
    )


def test_deleted_author_is_shown_anonymised(api, data):
    author = data["author"]
    author.deleted_at = timezone.now()
    author.save(update_fields=["deleted_at"])
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    item = api.get(
        f"/api/v1/studies/{data['study'].slug}/contributions/{data['published'].pk}/"
    ).json()
    assert item["author"] == "Deleted participant"


# --- Filters -------------------------------------------------------------------


def _ids(api, url: str) -> set[int]:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_contributions_filter_by_section_kind_and_state(api, data):
    slug = data["study"].slug
    first, second = data["sections"]

    def ids(query: str) -> set[int]:
        return _ids(api, f"/api/v1/studies/{slug}/contributions/?{query}")

    assert ids(f"section={first.pk}") == {data["published"].pk, data["removed"].pk}
    assert ids(f"section={second.pk}") == {data["hidden"].pk}
    assert ids("kind=question") == {data["hidden"].pk}
    assert ids("state=removed") == {data["removed"].pk}
    assert ids(f"section={first.pk}&kind=idea&state=published") == {data["published"].pk}


def test_comments_filter_by_contribution_section_and_kind(api, data):
    slug = data["study"].slug
    other = ContributionFactory(study=data["study"], section=data["sections"][1], kind="concern")
    on_other = CommentFactory(contribution=other)

    def ids(query: str) -> set[int]:
        return _ids(api, f"/api/v1/studies/{slug}/comments/?{query}")

    assert ids(f"contribution={other.pk}") == {on_other.pk}
    assert ids(f"section={data['sections'][1].pk}") == {on_other.pk}
    assert ids("kind=concern") == {on_other.pk}
    assert on_other.pk not in ids("kind=idea")


def test_updated_since_returns_items_changed_at_or_after_the_time(api, data):
    slug = data["study"].slug
    old = timezone.now() - timezone.timedelta(days=3)
    Contribution.objects.filter(study=data["study"]).update(updated_at=old)
    changed = data["published"]
    Contribution.objects.filter(pk=changed.pk).update(updated_at=timezone.now())
    since = (timezone.now() - timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = api.get(f"/api/v1/studies/{slug}/contributions/?updated_since={since}").json()
    assert [i["id"] for i in results["results"]] == [changed.pk]
    day = (timezone.now() - timezone.timedelta(days=5)).date().isoformat()
    assert (
        api.get(f"/api/v1/studies/{slug}/contributions/?updated_since={day}").json()["count"] == 3
    )
    offset = "2999-01-01T00:00:00%2B01:00"
    assert api.get(f"/api/v1/studies/{slug}/comments/?updated_since={offset}").json()["count"] == 0


def test_study_list_filters_by_status_and_updated_since(api):
    StudyFactory(status="open")
    closed = StudyFactory(status="closed")
    assert [s["id"] for s in api.get("/api/v1/studies/?status=closed").json()["results"]] == [
        closed.pk
    ]
    assert api.get("/api/v1/studies/?updated_since=2999-01-01").json()["count"] == 0


# --- Pagination ------------------------------------------------------------------


def test_pages_are_ordered_by_id_and_stable(api):
    study = StudyFactory()
    items = [ContributionFactory(study=study) for _ in range(5)]
    url = f"/api/v1/studies/{study.slug}/contributions/"
    first = api.get(url + "?page_size=2").json()
    second = api.get(url + "?page_size=2&page=2").json()
    third = api.get(url + "?page_size=2&page=3").json()
    seen = [i["id"] for page in (first, second, third) for i in page["results"]]
    assert seen == sorted(i.pk for i in items)
    assert first["count"] == 5 and first["next"].endswith("page=2&page_size=2")
    assert third["next"] is None


def test_page_out_of_range_is_404_with_json(api, data):
    response = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?page=99")
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "page_size=0", "page_size=201"])
def test_malformed_page_parameters_are_400(api, data, query):
    response = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"
    assert query.split("=")[0] in response.json()["errors"]


# --- Bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,field",
    [
        ("colour=red", "colour"),
        ("section=abc", "section"),
        ("section=0", "section"),
        ("section=99999999999999999999999", "section"),
        ("kind=poem", "kind"),
        ("state=pending", "state"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-13-01", "updated_since"),
        ("updated_since=", "updated_since"),
        ("kind=idea&kind=concern", "kind"),
    ],
)
def test_bad_query_is_400_naming_the_parameter(api, data, query, field):
    response = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["code"] == "invalid_query" and body["detail"]
    assert field in body["errors"]


def test_unknown_parameter_on_an_endpoint_without_filters_is_400(api, data):
    response = api.get(f"/api/v1/studies/{data['study'].slug}/?expand=all")
    assert response.status_code == 400
    assert "expand" in response.json()["errors"]


def test_item_number_beyond_any_row_is_404_not_500(api, data):
    url = f"/api/v1/studies/{data['study'].slug}/contributions/99999999999999999999999/"
    assert api.get(url).status_code == 404


def test_unknown_address_under_api_is_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_missing_trailing_slash_redirects(api, data):
    response = api.get(f"/api/v1/studies/{data['study'].slug}?page=1")
    assert response.status_code == 301
    assert response["Location"] == f"/api/v1/studies/{data['study'].slug}/?page=1"


def test_writes_are_refused_with_405(api, data):
    response = api.post("/api/v1/studies/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_errors_follow_the_language_asked_for(api, data):
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    body = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?x=1").json()
    assert body["errors"]["x"] == ["Unknown query parameter."]


# --- Caching ------------------------------------------------------------------------


def test_public_answers_are_cacheable_with_an_etag_and_answer_304(api, data):
    url = f"/api/v1/studies/{data['study'].slug}/contributions/"
    response = api.get(url)
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"]
    assert "Authorization" in response["Vary"]
    again = api.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_changed_data_gets_a_new_etag(api, data):
    url = f"/api/v1/studies/{data['study'].slug}/contributions/"
    first = api.get(url)["ETag"]
    ContributionFactory(study=data["study"])
    assert api.get(url)["ETag"] != first
    assert api.get(url, HTTP_IF_NONE_MATCH=first).status_code == 200


def test_errors_are_not_cached(api):
    assert api.get("/api/v1/studies/?x=1")["Cache-Control"] == "no-store"


def test_answers_to_a_token_are_private(api, data):
    _token, secret = token_for(coordinator_of(data["study"]))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.get(f"/api/v1/studies/{data['study'].slug}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


# --- Statistics -------------------------------------------------------------------------


def test_statistics_carry_the_definitions_version_and_counted_figures(api, data):
    # One organisation: at the default threshold the totals would give it away.
    data["study"].small_count_threshold = 1
    data["study"].save()
    body = api.get(f"/api/v1/studies/{data['study'].slug}/statistics/").json()
    assert body["definitions_version"] == 2
    assert body["study"] == data["study"].slug
    # Counted: the published contribution; the spam-hidden and abuse-removed ones are not.
    assert body["totals"]["contributions"] == 1
    # Counted comments: two published, one hidden as off-topic, one on the pending item.
    assert body["totals"]["comments"] == 4
    assert body["headline"]["en"]
    assert body["generated_at"]


def test_small_per_organisation_participant_counts_are_withheld(api, data):
    body = api.get(f"/api/v1/studies/{data['study'].slug}/statistics/").json()
    org = next(o for o in body["organisations"] if o["name"] == "Statens vegvesen")
    assert org["participants"] is None
    assert org["participants_display"] == "withheld"
    # Its items bound its participants, and its only sector and the totals would give it away.
    assert org["contributions"] is None
    assert body["totals"]["participants"] is None
    assert body["withheld"]["totals"] is True


def test_statistics_show_large_per_organisation_counts(api):
    study = StudyFactory(small_count_threshold=2)
    data = seed_study()
    org = data["org"]
    for _ in range(2):
        ContributionFactory(study=study, acted_for=org, acted_for_sector=org.sector)
    body = api.get(f"/api/v1/studies/{study.slug}/statistics/").json()
    row = body["organisations"][0]
    assert row["participants"] == 2 and row["participants_display"] == "2"


def test_sections_do_not_leak_between_studies(api, data):
    other = SectionFactory()
    results = api.get(f"/api/v1/studies/{data['study'].slug}/sections/").json()["results"]
    assert other.pk not in {s["id"] for s in results}


def test_head_answers_like_get_without_a_body(api, data):
    response = api.head(f"/api/v1/studies/{data['study'].slug}/")
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"]


def test_answers_vary_on_language_and_authorization(api, data):
    vary = api.get(f"/api/v1/studies/{data['study'].slug}/")["Vary"]
    assert "Accept-Language" in vary and "Authorization" in vary


def test_errors_are_in_bokmal_by_default(api, data):
    body = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?x=1").json()
    assert body["errors"]["x"] == ["Ukjent parameter."]
    assert body["code"] == "invalid_query"


def test_item_lists_take_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    study = StudyFactory()
    for _ in range(20):
        CommentFactory(contribution=ContributionFactory(study=study))
    with django_assert_max_num_queries(6):
        assert api.get(f"/api/v1/studies/{study.slug}/contributions/").status_code == 200
    with django_assert_max_num_queries(6):
        assert api.get(f"/api/v1/studies/{study.slug}/comments/").status_code == 200


def test_absurdly_long_page_numbers_are_answered_without_error(api, data):
    url = f"/api/v1/studies/{data['study'].slug}/contributions/"
    assert api.get(url + "?page=" + "9" * 5000).status_code == 404
    assert api.get(url + "?page_size=" + "9" * 5000).status_code == 400
    assert api.get(url + "?page=" + "0" * 30 + "1").status_code == 200


def test_too_many_query_parameters_are_a_json_400(api, data):
    query = "&".join(f"p{n}=1" for n in range(1100))
    response = api.get(f"/api/v1/studies/{data['study'].slug}/contributions/?{query}")
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_api_root_links_to_the_studies_schema_and_documentation(api):
    body = api.get("/api/v1/").json()
    assert body["studies"].endswith("/api/v1/studies/")
    assert body["schema"].endswith("/api/schema/")
    assert body["documentation"].endswith("/api/")


def test_public_answers_may_be_read_by_any_web_page_but_token_answers_not(api, data):
    url = f"/api/v1/studies/{data['study'].slug}/"
    assert api.get(url)["Access-Control-Allow-Origin"] == "*"
    _token, secret = token_for(coordinator_of(data["study"]))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert "Access-Control-Allow-Origin" not in api.get(url)
    export = api.get(f"/api/v1/studies/{data['study'].slug}/exports/aggregate/")
    assert export.status_code == 200 and "Access-Control-Allow-Origin" not in export
