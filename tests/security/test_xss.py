"""An XSS corpus through every field people can type into, beyond contributions and comments.

Each payload is posted through the real view, with the page's own form (hidden
fields and formsets included), by the person who may post it; then every page
that shows the text is fetched by the people who see it, and every live event
the study recorded is read too; all are parsed as a browser would: no payload
may become a script, an event handler, a script URL, an inline style or an
embedded object. Contribution and comment text (and the
author's name and organisation in live events) are covered in
tests/contributions/test_xss.py; this file covers the rest.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from studies.models import Joining
from tests.contributions.test_xss import CORPUS
from tests.factories import ContributionFactory, MembershipFactory, UserFactory, login_as
from tests.security.forms import submit
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

# Tags a payload may try to smuggle in; the site itself uses none of them in its pages.
FORBIDDEN_TAGS = {
    "img", "iframe", "object", "embed", "math", "style", "base", "frame", "frameset",
    "applet", "meta", "link", "audio", "video", "source",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
SAFE_SCHEMES = {"http", "https", "mailto"}


class _Active(HTMLParser):
    """Collects anything active in a page body that the site's own templates never produce."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_body = False
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self._in_body = True
        if tag == "script":
            src = a.get("src") or ""
            if a.get("type") == "application/json":
                self._script = "data"
            elif src.startswith("/static/"):
                self._script = "site"
            else:
                self.problems.append(f"<script src={src!r}>")
                self._script = "foreign"
        elif self._in_body and tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            squashed = "".join(value.split()).lower()
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}={value!r}]")
            elif name == "style":
                self.problems.append(f"{tag}[style={value!r}]")
            elif name in URL_ATTRIBUTES:
                scheme = SCHEME.match(squashed)
                if scheme and scheme.group(1) not in SAFE_SCHEMES:
                    self.problems.append(f"{tag}[{name}={value!r}]")
            elif name == "srcdoc":
                self.problems.append(f"{tag}[srcdoc]")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self._script == "site" and data.strip():
            self.problems.append(f"inline script {data.strip()[:40]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def assert_inert(html: str, where: str) -> None:
    parser = _Active()
    parser.feed(html)
    parser.close()
    assert parser.problems == [], f"{where}: {parser.problems}"


class People:
    """A signed-in client per role of the world, made once."""

    def __init__(self, world: World):
        self.world = world
        self._clients: dict[str, Client] = {}

    def __getitem__(self, role: str) -> Client:
        if role not in self._clients:
            client = Client()
            client.cookies["django_language"] = "en"
            user = self.world.users.get(role)
            if user is not None:
                login_as(client, user)
            self._clients[role] = client
        return self._clients[role]

    def check(self, *pages: tuple[str, str], contains: str | None = None) -> None:
        """Fetch each (role, url) and assert the page is inert; ``contains`` proves the
        text really is on the page (escaped), so an empty page cannot pass."""
        seen = False
        for role, url in pages:
            response = self[role].get(url)
            assert response.status_code == 200, f"{role} {url}: {response.status_code}"
            html = response.content.decode()
            assert_inert(html, f"{role} {url}")
            seen = seen or (contains is not None and _escaped_in(contains, html))
        if contains is not None:
            assert seen, f"the typed text {contains!r} is shown on none of {pages}"
        # What the live stream fans out to open pages is as inert as the pages.
        from studies.models import StudyEvent
        from tests.conftest import broadcast_html, broadcast_live

        for event in StudyEvent.objects.filter(study=self.world.study):
            assert_inert(broadcast_html(event), f"live event {event.kind} {event.seq}")
            for language, html in (broadcast_live(event).get("html_alt") or {}).items():
                assert_inert(html or "", f"live event {event.kind} {event.seq} ({language})")


def _escaped_in(text: str, html: str) -> bool:
    """Whether a recognisable, harmless piece of the text is on the page."""
    for word in re.findall(r"[A-Za-z]{4,}", text):
        if word.lower() not in {"script", "javascript", "alert"} and word in html:
            return True
    return "alert" in html


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def people(world):
    return People(world)


def _ok(response, what: str):
    assert response.status_code in (200, 302), f"{what}: {response.status_code}"
    if response.status_code == 200:
        body = response.content.decode()
        assert "errorlist" not in body, f"{what} was refused: form errors"
    return response


PAYLOADS = list(enumerate(CORPUS))
IDS = [f"p{n}" for n, _ in PAYLOADS]


# --- the study: title, summary, document, sections --------------------------------


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_study_texts_and_sections(world, people, n, payload):
    s = world.study.slug
    settings_url = reverse("studies:settings", args=[s])
    _ok(
        submit(
            people["coordinator"],
            settings_url,
            data={
                "title": f"T{n} {payload}"[:200],
                "summary": f"S{n} {payload}"[:600],
                "body": f"Document {payload}",
                "sections-0-title": f"Chapter {payload}"[:200],
                "sections-0-prompt": f"Prompt {payload}",
            },
        ),
        "study settings",
    )
    world.study.refresh_from_db()
    assert world.study.title.startswith(f"T{n}")
    people.check(
        ("anonymous", "/"),
        ("anonymous", reverse("study_detail", args=[s])),
        ("anonymous", reverse("studies:versions", args=[s])),
        ("anonymous", reverse("reports:statistics", args=[s])),
        ("member", reverse("study_detail", args=[s])),
        ("member", reverse("studies:membership", args=[s])),
        ("coordinator", settings_url),
        ("facilitator", reverse("moderation:queue", args=[s])),
        ("facilitator", reverse("moderation:overview")),
        contains=payload,
    )


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_phases(world, people, n, payload):
    s = world.study.slug
    url = reverse("studies:phases", args=[s])
    _ok(
        submit(
            people["coordinator"],
            url,
            data={
                "phases-TOTAL_FORMS": "1",
                "phases-INITIAL_FORMS": "0",
                "phases-0-title": f"Phase {payload}"[:200],
                "phases-0-description": f"About {payload}",
                "phases-0-starts_at": "2026-01-01T10:00",
                "phases-0-ends_at": "2027-01-01T10:00",
            },
        ),
        "phases",
    )
    assert world.study.phases.count() == 1
    people.check(
        ("anonymous", reverse("study_detail", args=[s])),
        ("member", reverse("study_detail", args=[s])),
        ("coordinator", url),
        contains=payload,
    )


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_version_change_summary_and_document(world, people, n, payload):
    s = world.study.slug
    response = _ok(
        submit(
            people["coordinator"],
            reverse("studies:version_create", args=[s]),
            data={"number": f"2.{n}", "change_summary": f"Changed {payload}", "body": payload},
        ),
        "new version",
    )
    version = world.study.versions.get(number=f"2.{n}")
    people.check(
        ("anonymous", reverse("studies:versions", args=[s])),
        ("anonymous", reverse("studies:version_detail", args=[s, version.pk])),
        (
            "anonymous",
            reverse("studies:version_compare", args=[s])
            + f"?old={world.version.pk}&new={version.pk}",
        ),
        ("member", reverse("study_detail", args=[s])),
        contains=payload,
    )
    assert response.status_code == 302


# --- people and organisations ----------------------------------------------------


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_display_name(world, people, n, payload):
    s = world.study.slug
    name = f"N{n} {payload}"[:80]
    _ok(submit(people["member"], reverse("profile"), data={"display_name": name}), "profile")
    world.users["member"].refresh_from_db()
    assert world.users["member"].display_name == name.strip()
    people.check(
        ("anonymous", reverse("study_detail", args=[s])),
        ("anonymous", reverse("contribution_comments", args=[s, world.contribution.pk])),
        ("member", reverse("profile")),
        ("facilitator", reverse("moderation:members", args=[s])),
        ("facilitator", reverse("moderation:member", args=[s, world.memberships["member"].pk])),
        (
            "facilitator",
            reverse("moderation:item", args=[s, "contribution", world.contribution.pk]),
        ),
        ("coordinator", reverse("studies:members", args=[s])),
        ("coordinator", reverse("moderation:log", args=[s])),
        contains=payload,
    )


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_organisation_name(world, people, n, payload):
    from accounts.models import Organisation

    name = f"Org{n} {payload}"[:200]
    _ok(
        submit(
            people["member"],
            reverse("profile"),
            action=reverse("organisation_propose"),
            data={"name": name, "sector": "public", "website": "https://example.org/"},
        ),
        "organisation",
    )
    organisation = Organisation.objects.get(name=name.strip())
    people.check(
        ("member", reverse("profile")),
        ("member", reverse("studies:membership", args=[world.study.slug])),
        ("administrator", reverse("reports:organisations")),
        ("administrator", reverse("reports:organisation", args=[organisation.pk])),
        contains=payload,
    )


def test_organisation_website_cannot_be_a_script_url(world, people):
    from accounts.models import Organisation

    response = people["member"].post(
        reverse("organisation_propose"),
        {"name": "Website test", "sector": "public", "website": "javascript:alert(1)"},
    )
    assert response.status_code == 400
    assert not Organisation.objects.filter(name="Website test").exists()
    assert_inert(response.content.decode(), "refused organisation")


# --- joining and inviting ------------------------------------------------------------


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_join_request_message(world, people, n, payload):
    world.study.joining = Joining.APPROVAL
    world.study.save()
    s = world.study.slug
    _ok(
        submit(people["outsider"], reverse("studies:join", args=[s]), data={"message": payload}),
        "join request",
    )
    assert world.study.join_requests.filter(message=payload[:1000].strip()).exists()
    people.check(("coordinator", reverse("studies:members", args=[s])), contains=payload)


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_invitation_addresses_echoed_in_errors(world, people, n, payload):
    url = reverse("studies:invitations", args=[world.study.slug])
    response = people["coordinator"].post(url, {"list-addresses": payload, "list-submit": "1"})
    assert response.status_code in (200, 400)
    assert_inert(response.content.decode(), "invitation errors")
    assert not world.study.invitations.exclude(pk=world.invitation.pk).exists()


# --- moderation: flags, reasons, notes, answers, blocks ------------------------------------


def _fresh_item(world):
    return ContributionFactory(study=world.study, author=world.users["member"])


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_flag_note(world, people, n, payload):
    s = world.study.slug
    item = _fresh_item(world)
    response = people["coordinator"].post(
        reverse("moderation:flag", args=[s, "contribution", item.pk]),
        {"reason": "other", "note": payload[:500]},
    )
    _ok(response, "flag")
    people.check(
        ("facilitator", reverse("moderation:queue", args=[s])),
        ("facilitator", reverse("moderation:item", args=[s, "contribution", item.pk])),
        contains=payload,
    )


def _act(people, world, item, action: str, data: dict):
    url = reverse(
        "moderation:item_action", args=[world.study.slug, "contribution", item.pk, action]
    )
    return _ok(people["facilitator"].post(url, data), action)


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_hide_note_and_restore_reason(world, people, n, payload):
    s = world.study.slug
    item = _fresh_item(world)
    _act(people, world, item, "hide", {"reason": "off_topic", "note": payload[:500]})
    item.refresh_from_db()
    assert item.state == "hidden"
    people.check(
        ("anonymous", reverse("study_detail", args=[s])),
        ("member", reverse("study_detail", args=[s])),
        ("member", reverse("notifications")),
        ("facilitator", reverse("moderation:item", args=[s, "contribution", item.pk])),
        ("coordinator", reverse("moderation:log", args=[s])),
        contains=payload,
    )
    _act(people, world, item, "restore", {"reason": payload[:500]})
    people.check(
        ("coordinator", reverse("moderation:log", args=[s])),
        ("facilitator", reverse("moderation:item", args=[s, "contribution", item.pk])),
        ("member", reverse("notifications")),
        contains=payload,
    )


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_private_note_and_official_answer(world, people, n, payload):
    s = world.study.slug
    item = _fresh_item(world)
    _act(people, world, item, "note", {"body": payload})
    people.check(
        ("facilitator", reverse("moderation:item", args=[s, "contribution", item.pk])),
        ("coordinator", reverse("moderation:item", args=[s, "contribution", item.pk])),
        contains=payload,
    )
    _act(people, world, item, "answer", {"body": payload[:4000]})
    people.check(
        ("anonymous", reverse("study_detail", args=[s])),
        ("anonymous", reverse("contribution_comments", args=[s, item.pk])),
        ("member", reverse("notifications")),
        contains=payload,
    )


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_block_and_unblock_reasons(world, people, n, payload):
    s = world.study.slug
    target = MembershipFactory(study=world.study, user=UserFactory())
    blocked = Client()
    blocked.force_login(target.user)
    block = reverse("moderation:member_block", args=[s, target.pk])
    _ok(people["facilitator"].post(block, {"reason": payload[:500]}), "block")
    target.refresh_from_db()
    assert target.is_blocked
    people.check(
        ("facilitator", reverse("moderation:member", args=[s, target.pk])),
        ("facilitator", reverse("moderation:members", args=[s])),
        ("coordinator", reverse("moderation:log", args=[s])),
        contains=payload,
    )
    for url in (reverse("study_detail", args=[s]), reverse("notifications")):
        assert_inert(blocked.get(url).content.decode(), f"blocked member {url}")
    unblock = reverse("moderation:member_unblock", args=[s, target.pk])
    _ok(people["facilitator"].post(unblock, {"reason": f"Unblocked {payload}"[:500]}), "unblock")
    people.check(("coordinator", reverse("moderation:log", args=[s])), contains=payload)


# --- API tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_api_token_name(world, people, n, payload):
    from api.models import ApiToken

    _ok(
        submit(people["coordinator"], reverse("api:tokens"), data={"name": payload[:100]}),
        "API token",
    )
    assert ApiToken.objects.filter(user=world.users["coordinator"]).exists()
    people.check(("coordinator", reverse("api:tokens")), contains=payload)


# --- reflected: query strings ---------------------------------------------------------


@pytest.mark.parametrize(("n", "payload"), PAYLOADS, ids=IDS)
def test_query_strings_are_not_reflected_as_markup(world, people, n, payload):
    from urllib.parse import urlencode

    s = world.study.slug
    query = "?" + urlencode(
        dict.fromkeys(("q", "next", "page", "section", "kind", "sort", "show", "reason"), payload)
    )
    pages = [
        ("anonymous", "/"),
        ("anonymous", reverse("study_detail", args=[s])),
        ("anonymous", reverse("account_login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("reports:statistics", args=[s])),
        ("member", reverse("study_detail", args=[s])),
        ("member", reverse("notifications")),
        ("facilitator", reverse("moderation:queue", args=[s])),
        ("coordinator", reverse("moderation:log", args=[s])),
    ]
    for role, url in pages:
        response = people[role].get(url + query)
        assert response.status_code in (200, 400), f"{role} {url}: {response.status_code}"
        assert_inert(response.content.decode(), f"{role} {url}{query}")


# --- the checker itself --------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        '<body><a href=" JaVa\tScRiPt:alert(1)">x</a></body>',
        "<body><img src=x onerror=alert(1)></body>",
        "<body><svg onload=alert(1)></svg></body>",
        "<body><script>alert(1)</script></body>",
        '<body><script src="https://evil.example/x.js"></script></body>',
        '<body><p style="color:red">x</p></body>',
        '<body><iframe srcdoc="x"></iframe></body>',
    ],
)
def test_the_checker_catches_active_html(html):
    with pytest.raises(AssertionError):
        assert_inert(html, "control")


def test_the_checker_accepts_a_real_page(people, world):
    assert_inert(
        people["anonymous"].get(reverse("study_detail", args=[world.study.slug])).content.decode(),
        "study page",
    )
