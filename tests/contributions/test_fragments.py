"""The study page renders each item once and reuses it, never stale, with each viewer's controls.

contributions/fragments.py caches an item's viewer-neutral HTML under a key
made from everything it shows, and the assembled list per study event
number; these tests change each thing the page shows and check the page
shows the change, and check the controls each kind of viewer gets on a page
served from the cache.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import User
from contributions import fragments, services
from contributions.models import ItemState
from core import memory
from studies.models import Role
from tests.contributions.factories import member, organisation
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    SectionFactory,
    StudyFactory,
    give_mfa,
)

pytestmark = pytest.mark.django_db
ITEM_TEMPLATES = {"contributions/_contribution.html", "contributions/_comment.html"}


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.LANGUAGE_CODE = "en"
    memory.clear_all()
    cache.clear()
    yield
    memory.clear_all()


def page_url(study, **params):
    url = reverse("study_detail", args=[study.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def get(client, study, language="en", **params):
    client.cookies["django_language"] = language
    response = client.get(page_url(study, **params), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def item_renders(response) -> int:
    return sum(1 for t in response.templates if t.name in ITEM_TEMPLATES)


def tools_of(html: str, dom_id: str) -> str:
    """What is inside the item's own .item-tools (the first after its opening tag)."""
    start = html.index(f'id="{dom_id}"')
    match = re.compile(r'<div class="item-tools">(.*?)</div>\s*<div class="item-form-slot">', re.S)
    return match.search(html, start).group(1)


@pytest.fixture
def study_with_thread():
    study = StudyFactory()
    author = member(study)
    contribution = ContributionFactory(study=study, author=author, title="Shared registry")
    comment = CommentFactory(
        contribution=contribution, author=member(study), body_html="<p>First thought</p>"
    )
    reply = CommentFactory(contribution=contribution, parent=comment, body_html="<p>A reply</p>")
    return study, author, contribution, comment, reply


# --- rendered once ------------------------------------------------------------------------


def test_each_item_is_rendered_once_per_language_across_requests(client, study_with_thread):
    study, *_ = study_with_thread
    first = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en")
    # The contribution and the comment; the reply waits behind "1 reply: show".
    assert item_renders(first) == 2
    for _ in range(3):  # the list is stored the second time, then served
        again = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en")
        assert item_renders(again) == 0
    assert "First thought" in again.content.decode() and "1 reply: show" in again.content.decode()
    client.cookies["django_language"] = "nb"
    norwegian = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="nb")
    assert item_renders(norwegian) == 2
    assert item_renders(client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="nb")) == 0


def test_without_the_caches_every_request_renders_again(client, study_with_thread):
    """The counter above is meaningful: emptying the caches brings the renders back."""
    study, *_ = study_with_thread
    client.get(page_url(study))
    memory.clear_all()
    cache.clear()
    assert item_renders(client.get(page_url(study))) == 2


def test_a_kept_list_is_weighed_once_not_on_every_page(client, study_with_thread, monkeypatch):
    """Keeping a list weighs all its text (core.memory.weight): done when it is kept,
    not again on each page that reads it from the process's memory."""
    from contributions import listing

    study, *_ = study_with_thread
    kept = []
    remember = listing._remember_list
    monkeypatch.setattr(listing, "_remember_list", lambda k, v: (kept.append(k), remember(k, v)))
    client.get(page_url(study))
    client.get(page_url(study))  # the second ask keeps the list
    assert len(kept) == 1
    for _ in range(3):
        assert "First thought" in client.get(page_url(study)).content.decode()
    assert len(kept) == 1


def test_a_posted_item_is_rendered_once_for_its_event_and_reused_by_the_page(
    client, item_render_count
):
    study = StudyFactory()
    author = member(study)
    client.force_login(author)
    before = item_render_count["count"]
    services.contribution_create(study=study, author=author, title="Posted once", body="Text")
    # One render per site language for the event, none for the page that follows.
    from django.conf import settings

    assert item_render_count["count"] - before == len(settings.LANGUAGES)
    response = client.get(page_url(study), HTTP_ACCEPT_LANGUAGE="en")
    assert "Posted once" in response.content.decode()
    assert item_renders(response) == 0


def test_an_event_reads_and_writes_the_shared_cache_once_for_every_language(
    monkeypatch, item_render_count
):
    """Both languages' fragments in one read and one write, not one of each per language."""
    from django.conf import settings

    study = StudyFactory()
    author = member(study)
    calls = []
    for name in ("get_many", "set_many"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *a, _name=name, _real=real, **k: calls.append(_name) or _real(*a, **k),
        )
    contribution = services.contribution_create(
        study=study, author=author, title="Posted once", body="Text"
    )
    assert calls == ["get_many", "set_many"]
    assert len(settings.LANGUAGES) == 2
    # What it stored is what the page reads: both languages, no render left to do.
    memory.clear_all()
    before = item_render_count["count"]
    html = fragments.item_html_in(contribution, ["en", "nb"])
    assert item_render_count["count"] == before
    assert "Posted once" in html["en"] and "Posted once" in html["nb"]
    assert html["en"] != html["nb"]  # each in its own language


def test_a_new_comments_event_writes_the_shared_cache_without_reading_it(
    monkeypatch, item_render_count
):
    """A comment's id is new when its event is rendered: no cache can hold it yet."""
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(
        study=study, author=author, title="Thread", body="Text"
    )
    calls = []
    for name in ("get_many", "set_many"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *a, _name=name, _real=real, **k: calls.append(_name) or _real(*a, **k),
        )
    comment = services.comment_create(contribution=contribution, author=author, body="Fresh")
    assert calls == ["set_many"]
    # What it stored is what a page reads in either language, with no render left.
    memory.clear_all()
    before = item_render_count["count"]
    html = fragments.item_html_in(comment, ["en", "nb"])
    assert item_render_count["count"] == before
    assert "Fresh" in html["en"] and "Fresh" in html["nb"]


def test_an_events_fragments_are_stored_under_the_keys_each_language_reads(
    django_capture_on_commit_callbacks,
):
    """A deleted author's name is translated, so each language's key is its own."""
    study = StudyFactory()
    author = member(study)
    contribution = ContributionFactory(study=study, author=author, title="Kept")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.account_delete(user=author)
    contribution.refresh_from_db()
    memory.clear_all()
    with translation.override("en"):
        fragments.item_html_in(contribution, ["en", "nb"])
    for code in ("en", "nb"):
        with translation.override(code):
            kept = cache.get(fragments.slot_key(contribution))
            assert kept is not None and kept[0] == fragments.fragment_key(contribution), code


def test_the_posters_own_answer_reuses_the_events_render(client, item_render_count):
    """Finding 3c: views._apply_json rendered the item a second time."""
    import uuid

    study = StudyFactory()
    client.force_login(member(study))
    before = item_render_count["count"]
    response = client.post(
        reverse("contribution_list", args=[study.slug]),
        {"title": "Mine", "kind": "idea", "body": "Text", "idempotency_key": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "live-apply" in response.content.decode()
    from django.conf import settings

    assert item_render_count["count"] - before == len(settings.LANGUAGES)


def test_live_events_carry_the_same_html_with_empty_slots(study_with_thread):
    _, _, contribution, comment, _ = study_with_thread
    html = fragments.item_html(contribution)
    assert "<!--dugnad" not in html
    assert '<div class="item-tools"></div>' in html
    assert f'<section class="comments" id="{contribution.dom_id}-comments"' in html
    assert "First thought" not in html  # children are not part of an item's event
    reply_container = f'<div class="replies" id="{comment.dom_id}-replies"></div>'
    assert reply_container in fragments.item_html(comment)


# --- never stale --------------------------------------------------------------------------


def warm(client, study) -> str:
    """Three views: items rendered, then the list stored, then served from the cache."""
    for _ in range(3):
        html = get(client, study)
    return html


def test_an_edit_is_shown(client, study_with_thread):
    study, author, contribution, *_ = study_with_thread
    assert "Shared registry" in warm(client, study)
    services.contribution_edit(
        contribution=contribution, editor=author, title="Shared registry, revised", body="New"
    )
    html = get(client, study)
    assert "Shared registry, revised" in html and "edited" in html


def test_a_reaction_is_counted(client, study_with_thread):
    study, _, contribution, *_ = study_with_thread
    assert "0 reactions" in warm(client, study)
    services.reaction_toggle(item=contribution, user=member(study))
    html = get(client, study)
    assert 'data-reactions="1"' in html and "1 reaction<" in html


def test_hide_and_restore_are_shown(client, study_with_thread):
    study, _, _, comment, _ = study_with_thread
    assert "First thought" in warm(client, study)
    services.item_change_state(item=comment, state=ItemState.HIDDEN, reason="off_topic")
    html = get(client, study)
    assert "First thought" not in html and "Hidden by a facilitator: off-topic" in html
    warm(client, study)
    services.item_change_state(item=comment, state=ItemState.PUBLISHED)
    html = get(client, study)
    assert "First thought" in html and "Hidden by a facilitator" not in html


def test_a_withdrawal_is_shown(client, study_with_thread):
    study, _, _, comment, _ = study_with_thread
    assert "First thought" in warm(client, study)
    services.comment_withdraw(comment=comment, user=comment.author)
    html = get(client, study)
    assert "First thought" not in html and "Withdrawn by the author." in html


def test_a_deleted_account_is_shown_anonymised(
    client, study_with_thread, django_capture_on_commit_callbacks
):
    study, _, _, comment, _ = study_with_thread
    name = comment.author.display_name
    assert name in warm(client, study)
    seq = study.last_event_seq
    with django_capture_on_commit_callbacks(execute=True):  # committed
        account_services.account_delete(user=comment.author)
    study.refresh_from_db()
    assert study.last_event_seq == seq + 1  # names.changed: kept pages are made again
    html = get(client, study)
    assert name not in html and "Deleted participant" in html


def test_a_display_name_change_is_shown(
    client, study_with_thread, django_capture_on_commit_callbacks
):
    study, author, *_ = study_with_thread
    warm(client, study)
    with django_capture_on_commit_callbacks(execute=True):
        author.display_name = "Kari Nordmann"
        author.save(update_fields=["display_name"])
    assert "Kari Nordmann" in get(client, study)


def test_an_organisation_rename_is_shown(client, django_capture_on_commit_callbacks):
    study = StudyFactory()
    body = organisation(name="Old Agency")
    ContributionFactory(study=study, acted_for=body, title="For the agency")
    CommentFactory(contribution__study=study, acted_for=body)
    assert "Old Agency" in warm(client, study)
    with django_capture_on_commit_callbacks(execute=True):
        body.name = "New Directorate"
        body.save(update_fields=["name"])
    html = get(client, study)
    assert "Old Agency" not in html and "New Directorate" in html


def test_a_rename_records_one_event_in_each_study_that_shows_the_name_and_nothing_else_does(
    client, study_with_thread, django_capture_on_commit_callbacks
):
    from studies.models import StudyEvent

    study, author, *_ = study_with_thread
    member(StudyFactory())  # a study the author takes no part in: no event there
    before = StudyEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        author.last_login = timezone.now()
        author.save(update_fields=["last_login"])  # a sign-in: no name changed
        author.save()  # saved as it was
        User.objects.create_user(email="new@example.org", password="x" * 12)
    assert StudyEvent.objects.count() == before
    with transaction.atomic():
        author.display_name = "Never committed"
        author.save(update_fields=["display_name"])
        transaction.set_rollback(True)
    assert StudyEvent.objects.count() == before
    author.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        author.display_name = "New name"
        author.save()
    events = list(StudyEvent.objects.filter(kind="names.changed"))
    assert [(e.study_id, e.data) for e in events] == [(study.pk, {})]
    assert "New name" in get(client, study)


def test_a_quiet_rename_is_shown_once_it_sends_the_signal(
    client, study_with_thread, django_capture_on_commit_callbacks
):
    """QuerySet.update() sends nothing: the code that renames that way sends name_changed."""
    from accounts.names import name_changed

    study, author, *_ = study_with_thread
    warm(client, study)
    User.objects.filter(pk=author.pk).update(display_name="Renamed quietly")
    assert "Renamed quietly" not in get(client, study)  # the kept page stands
    with django_capture_on_commit_callbacks(execute=True):
        name_changed.send(sender=User, pk=author.pk)
    assert "Renamed quietly" in get(client, study)


def test_a_section_rename_is_shown(client):
    study = StudyFactory()
    section = SectionFactory(study=study, title="Needs")
    ContributionFactory(study=study, section=section)
    assert "Section: Needs" in warm(client, study).replace("\n", " ").replace("  ", " ")
    section.title = "Wishes"
    section.save(update_fields=["title"])
    html = get(client, study)
    assert "Wishes" in html


def test_a_section_renamed_in_the_study_settings_is_shown_on_the_cached_list(client):
    """The settings rename sections with bulk updates, which send no signals."""
    from studies.models import Study
    from studies.services import SectionData, study_update

    study = StudyFactory()
    section = SectionFactory(study=study, title="Needs", order=1)
    ContributionFactory(study=study, section=section)
    assert "Needs" in warm(client, study)
    study_update(
        study=Study.objects.get(pk=study.pk),
        sections=[SectionData(id=section.pk, order=1, title="Wishes")],
    )
    html = get(client, study)
    assert "Wishes" in html and "Section: Needs" not in " ".join(html.split())


def test_fragment_keys_change_with_what_the_fragment_shows(study_with_thread):
    _, author, contribution, comment, _ = study_with_thread
    contribution.reaction_count = 0
    key = fragments.fragment_key(contribution)
    contribution.reaction_count = 1
    assert fragments.fragment_key(contribution) != key
    contribution.reaction_count = 0
    author.display_name = "Someone else"
    assert fragments.fragment_key(contribution) != key
    author.refresh_from_db()
    contribution.state = ItemState.HIDDEN
    assert fragments.fragment_key(contribution) != key
    contribution.state = ItemState.PUBLISHED
    assert fragments.fragment_key(contribution) == key
    from django.utils import translation

    with translation.override("nb"):
        assert fragments.fragment_key(contribution) != key


# --- each viewer's controls on a cached page -------------------------------------------------


@pytest.fixture
def roles(study_with_thread):
    study, author, contribution, comment, reply = study_with_thread
    other = member(study)
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    services.contribution_edit(contribution=contribution, editor=author, title="T2", body="B2")
    hidden = ContributionFactory(study=study, title="Hidden one", body_html="<p>Secret</p>")
    services.item_change_state(item=hidden, state=ItemState.HIDDEN, reason="spam")
    return study, author, other, facilitator, contribution, comment, hidden


def as_viewer(client, study, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return get(client, study)


def cached_for(client, study, user, *, filled_by):
    """The page as ``user`` sees it, served twice from caches ``filled_by`` someone else."""
    as_viewer(client, study, filled_by)
    as_viewer(client, study, user)
    return as_viewer(client, study, user)


def test_anonymous_visitors_get_no_controls_on_a_cached_page(client, roles):
    study, author, *_ = roles
    html = cached_for(
        client, study, None, filled_by=author
    )  # fill the caches as someone with controls
    assert "live-item-tools" not in html and "moderation-item-tools" not in html
    assert html.count('<div class="item-tools"></div>') == html.count('class="item-tools"')
    assert "csrfmiddlewaretoken" not in html.split('id="contributions"')[1]


def test_the_author_gets_edit_and_withdraw_on_their_own_item_only(client, roles):
    study, author, other, _, contribution, comment, hidden = roles
    html = cached_for(client, study, author, filled_by=other)
    own = tools_of(html, contribution.dom_id)
    assert f"/contributions/{contribution.pk}/edit/" in own
    assert f"/contributions/{contribution.pk}/withdraw/" in own
    assert f"/contributions/{contribution.pk}/react/" in own
    assert f"/contributions/{contribution.pk}/comments/form/" in own
    theirs = tools_of(html, comment.dom_id)
    assert "/edit/" not in theirs and "/withdraw/" not in theirs
    assert f"?parent={comment.pk}" in theirs
    assert "/history/" not in html  # only facilitators see earlier versions
    assert "moderation-item-tools" not in html
    # Controls work without JavaScript: real forms with the viewer's CSRF token.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', own).group(1)
    assert token and token != fragments.CSRF_SLOT


def test_another_member_gets_no_edit_button_on_someone_elses_item(client, roles):
    study, author, other, _, contribution, *_ = roles
    html = cached_for(client, study, other, filled_by=author)
    theirs = tools_of(html, contribution.dom_id)
    assert "/edit/" not in theirs and "/withdraw/" not in theirs
    assert "/react/" in theirs and "Support (0)" in theirs


def test_reacted_items_show_it_to_that_viewer_only(client, roles):
    study, author, other, _, contribution, *_ = roles
    services.reaction_toggle(item=contribution, user=other)
    for _ in range(2):
        mine = as_viewer(client, study, other)
    assert 'aria-pressed="true">Remove support (1)' in tools_of(mine, contribution.dom_id)
    theirs = as_viewer(client, study, author)
    assert 'aria-pressed="false">Support (1)' in tools_of(theirs, contribution.dom_id)


def test_facilitators_get_moderation_tools_and_history(client, roles):
    study, author, _, facilitator, contribution, _, hidden = roles
    html = cached_for(client, study, facilitator, filled_by=author)
    tools = tools_of(html, contribution.dom_id)
    assert f"/contributions/{contribution.pk}/history/" in tools  # edited
    hide = reverse(
        "moderation:item_action", args=[study.slug, "contribution", contribution.pk, "hide"]
    )
    assert f'action="{hide}"' in tools
    assert f'value="{page_url(study)}#contribution-{contribution.pk}"' in tools
    hidden_tools = tools_of(html, hidden.dom_id)
    restore = reverse(
        "moderation:item_action", args=[study.slug, "contribution", hidden.pk, "restore"]
    )
    assert f'action="{restore}"' in hidden_tools and "/hide/" not in hidden_tools
    # The hidden item's text is shown to nobody on the page, as before: only its marker.
    assert "Secret" not in html and "Hidden by a facilitator: spam" in html
    # Tools for facilitators never leak to a member viewing the same cached list.
    member_html = as_viewer(client, study, author)
    assert "/restore/" not in member_html and "/history/" not in member_html


def test_controls_match_what_the_scripts_would_add(client, roles):
    """Same data-signature as static/js/live.js: the script leaves them as they are."""
    study, author, _, _, contribution, *_ = roles
    html = as_viewer(client, study, author)
    tools = tools_of(html, contribution.dom_id)
    assert 'class="live-item-tools" data-signature="published|0|0|true|0"' in tools


# --- queries ------------------------------------------------------------------------------


def test_the_study_page_reads_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    study = StudyFactory()
    viewer = member(study)
    for n in range(25):
        contribution = ContributionFactory(study=study, title=f"Item {n}")
        for _ in range(4):
            comment = CommentFactory(contribution=contribution)
            CommentFactory(contribution=contribution, parent=comment)
    client.force_login(viewer)
    get(client, study)
    # Before the caches the page read 16 (docs/benchmarks.md, "Page throughput"). Of
    # these, the session, the person, the study, the membership, the study header and
    # the unread notifications are read by other parts of the platform.
    with django_assert_max_num_queries(13):
        get(client, study)  # built and stored
    with django_assert_max_num_queries(10):
        html = get(client, study)  # served from the cache
    assert ">Item 24<" in html and ">Item 4<" not in html


def test_a_viewers_own_reaction_shows_after_the_page_was_cached(client, roles):
    study, _, other, _, contribution, *_ = roles
    for _ in range(3):
        html = as_viewer(client, study, other)
    assert 'aria-pressed="false">Support (0)' in tools_of(html, contribution.dom_id)
    services.reaction_toggle(item=contribution, user=other)
    html = as_viewer(client, study, other)
    assert 'aria-pressed="true">Remove support (1)' in tools_of(html, contribution.dom_id)
    assert f"contribution-{contribution.pk}" in html.split('data-reacted="')[1].split('"')[0]
    services.reaction_toggle(item=contribution, user=other)
    html = as_viewer(client, study, other)
    assert 'aria-pressed="false">Support (0)' in tools_of(html, contribution.dom_id)


def test_text_that_looks_like_a_slot_stays_text(client, roles):
    """Slots are filled in the controls only, never in what people wrote."""
    study, author, other, *_ = roles
    ContributionFactory(
        study=study,
        title="<!--dugnad:tools--> __dugnad_csrf__",
        body_html="<p>__dugnad_csrf__ __dugnad_idempotency__</p>",
    )
    for _ in range(3):
        html = as_viewer(client, study, other)
    assert "&lt;!--dugnad:tools--&gt; __dugnad_csrf__" in html
    assert "<p>__dugnad_csrf__ __dugnad_idempotency__</p>" in html
