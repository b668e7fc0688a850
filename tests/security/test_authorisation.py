"""The authorisation matrix: every URL pattern against every role.

The URL patterns are walked from the resolver, so a view added tomorrow has no
entry in ``MATRIX`` and fails ``test_every_url_has_an_entry`` with its name
until someone writes down who may open it. Each entry says what each role gets
for a GET and, for the roles that must be refused, for a POST: a status code,
or ``LOGIN`` for a redirect to the sign-in page. POSTs are sent only for the
refused roles (with a valid CSRF token), so the world is never changed by the
check: a fingerprint of the world's state before and after proves that no
refused request (and no GET) changed anything.

Roles (DESIGN.md, studies/access.py): ``anonymous``; ``outsider`` (signed in,
not a member of the study); ``member`` (contributor); ``facilitator`` and
``coordinator`` of the study (both with two-factor set up, as they must be);
``administrator`` (a platform administrator with two-factor, not a member). The
study is public and open; a second set of tests puts the same URLs on a members-only study, where it
must not exist for the outsider and the anonymous visitor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from studies.models import Visibility
from tests.factories import login_as
from tests.security.world import ROLES, World, build_world

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the sign-in page
ANY = "any"  # not checked for this role (a success that would change the world)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, route, ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield route, name


def _key(route: str, name: str | None) -> str:
    """A URL's name, or its route where it has none."""
    if route.startswith("admin/"):
        return "admin:*"  # the Django admin is one entry: it guards all its pages itself
    return name or route


PATTERNS: dict[str, str] = {}
for _route, _name in _walk(get_resolver()):
    PATTERNS.setdefault(_key(_route, _name), _route)


def _roles(anonymous, outsider, member, facilitator, coordinator, administrator) -> dict:
    return dict(zip(ROLES, (anonymous, outsider, member, facilitator, coordinator, administrator)))


PUBLIC = _roles(200, 200, 200, 200, 200, 200)
SIGNED_IN = _roles(LOGIN, 200, 200, 200, 200, 200)
MANAGE = _roles(LOGIN, 403, 403, 403, 200, 403)
MODERATE = _roles(LOGIN, 403, 403, 200, 200, 403)
ADMINISTRATOR = _roles(LOGIN, 403, 403, 403, 403, 200)
POST_ONLY = _roles(LOGIN, 405, 405, 405, 405, 405)
MEMBERS_POST = _roles(LOGIN, 403, ANY, ANY, ANY, 403)
MANAGE_POST = _roles(LOGIN, 403, 403, 403, ANY, 403)
MODERATE_POST = _roles(LOGIN, 403, 403, ANY, ANY, 403)
ADMINISTRATOR_POST = _roles(LOGIN, 403, 403, 403, 403, ANY)
SIGNED_IN_POST = _roles(LOGIN, ANY, ANY, ANY, ANY, ANY)
NO_POST = _roles(405, 405, 405, 405, 405, 405)
# Signed-out pages of allauth: a signed-in person is sent on to the site.
SIGNED_OUT_ONLY = _roles(200, 302, 302, 302, 302, 302)


@dataclass(frozen=True)
class Entry:
    get: dict
    post: dict
    kwargs: Callable[[World], dict] | None = None
    note: str = ""


def study(w: World) -> dict:
    return {"slug": w.study.slug}


def contribution(w: World) -> dict:
    return {"slug": w.study.slug, "pk": w.contribution.pk}


def comment(w: World) -> dict:
    return {"slug": w.study.slug, "pk": w.comment.pk}


def member_item(w: World) -> dict:
    return {"slug": w.study.slug, "item_type": "contribution", "item_id": w.contribution.pk}


def membership(w: World) -> dict:
    return {"slug": w.study.slug, "membership_id": w.memberships["member"].pk}


MATRIX: dict[str, Entry] = {}  # filled below


def _client_for(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        login_as(client, user)
    return client


def _status(client: Client, method: str, url: str):
    response = client.get(url) if method == "get" else client.post(url, {})
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return LOGIN
    return response.status_code


# How to fill in each URL's parameters from the world.
KWARGS: dict[str, Callable[[World], dict]] = {
    "account_confirm_email": lambda w: {"key": "not-a-key"},
    "account_reset_password_from_key": lambda w: {"uidb36": "1", "key": "not-a-key"},
    "openid_connect_login": lambda w: {"provider_id": "oidc"},
    "openid_connect_callback": lambda w: {"provider_id": "oidc"},
    "organisation_leave": lambda w: {"pk": w.organisation.pk},
    "administrator_remove": lambda w: {"pk": w.users["administrator"].pk},
    "notification_read": lambda w: {"pk": w.notification.pk},
    "data_export_download": lambda w: {"token": w.data_export.token},
    "studies:invitation_waiting": lambda w: {"pk": w.invitation.pk},
    "studies:invitation": lambda w: {"token": w.invitation_token},
    "studies:version_detail": lambda w: {"slug": w.study.slug, "pk": w.version.pk},
    "studies:member_role": membership,
    "studies:join_request_decide": lambda w: {
        "slug": w.study.slug,
        "request_id": w.join_request.pk,
    },
    "studies:invitation_revoke": lambda w: {
        "slug": w.study.slug,
        "invitation_id": w.invitation.pk,
    },
    "contribution_edit": contribution,
    "contribution_withdraw": contribution,
    "contribution_react": contribution,
    "contribution_comments": contribution,
    "comment_form": contribution,
    "comment_replies": comment,
    "comment_edit": comment,
    "comment_withdraw": comment,
    "comment_react": comment,
    "item_history": lambda w: {
        "slug": w.study.slug,
        "item_type": "contributions",
        "pk": w.contribution.pk,
    },
    "contribution_attachment": lambda w: {"slug": w.study.slug, "pk": w.attachment.pk},
    "moderation:member": membership,
    "moderation:member_block": membership,
    "moderation:member_unblock": membership,
    "moderation:flag": member_item,
    "moderation:item": member_item,
    "moderation:item_action": lambda w: {**member_item(w), "action": "hide"},
    "reports:organisation": lambda w: {"pk": w.organisation.pk},
    "reports:organisation_merge": lambda w: {"pk": w.organisation.pk},
    "reports:organisation_verify": lambda w: {"pk": w.organisation.pk},
    "reports:organisation_domain_add": lambda w: {"pk": w.organisation.pk},
    "reports:organisation_domain_remove": lambda w: {
        "pk": w.organisation.pk,
        "domain_pk": w.domain.pk,
    },
    "reports:organisation_representative": lambda w: {
        "pk": w.organisation.pk,
        "claim_pk": w.claim.pk,
    },
    "claim_decision": lambda w: {"pk": w.claim.pk},
    "reports:export_status": lambda w: {"slug": w.study.slug, "token": w.export.token},
    "reports:export_download": lambda w: {"slug": w.study.slug, "token": w.export.token},
    "reports:report_download": lambda w: {"slug": w.study.slug, "fmt": "csv"},
    "api:token-revoke": lambda w: {"pk": w.api_token.pk},
    "api:contribution-detail": contribution,
    "api:study-export": lambda w: {"slug": w.study.slug, "tier": "aggregate"},
    "polls:detail": lambda w: {"slug": w.study.slug, "pk": w.poll.pk},
    "polls:vote": lambda w: {"slug": w.study.slug, "pk": w.poll.pk},
    "polls:edit": lambda w: {"slug": w.study.slug, "pk": w.poll.pk},
    "polls:close": lambda w: {"slug": w.study.slug, "pk": w.poll.pk},
    "polls:vote_flag": lambda w: {"slug": w.study.slug, "pk": w.vote.pk},
    "polls:vote_hide": lambda w: {"slug": w.study.slug, "pk": w.vote.pk},
    "polls:survey": lambda w: {"slug": w.study.slug, "pk": w.survey.pk},
    "polls:survey_answer_hide": lambda w: {"slug": w.study.slug, "pk": w.answer.pk},
    "reports:survey_results": lambda w: {"slug": w.study.slug, "pk": w.survey.pk},
    "reports:survey_export": lambda w: {"slug": w.study.slug, "pk": w.survey.pk},
    "passages:panel": lambda w: {"slug": w.study.slug, "anchor": w.anchor},
    "passages:comment": lambda w: {"slug": w.study.slug, "anchor": w.anchor},
    "passages:amend": lambda w: {"slug": w.study.slug, "anchor": w.anchor},
    # A reply goes to an item of the passage: the amendment is one.
    "passages:reply": lambda w: {"slug": w.study.slug, "anchor": w.anchor, "pk": w.amendment.pk},
    "passages:support": lambda w: {"slug": w.study.slug, "pk": w.amendment.pk},
    "passages:withdraw": lambda w: {"slug": w.study.slug, "pk": w.amendment.pk},
    "passages:decide": lambda w: {"slug": w.study.slug, "pk": w.amendment.pk},
}


def _kwargs(key: str, world: World) -> dict:
    if key in KWARGS:
        return KWARGS[key](world)
    route = PATTERNS[key]
    return {"slug": world.study.slug} if "<slug:slug>" in route else {}


def _url(key: str, world: World) -> str:
    if key == "admin:*":
        return reverse("admin:index")
    if key.startswith(("accounts/social/", "api/^")):
        return "/" + key.split("^")[0] + ("nothing/" if key.startswith("api/^") else "")
    return reverse(key, kwargs=_kwargs(key, world))


_ = ANY
# Read-only pages that answer every method alike (they render on POST too: harmless, no change).
READ_ANY = _roles(_, _, _, _, _, _)
OWNER_ONLY_POST = _roles(LOGIN, 404, ANY, 404, 404, 404)  # the member's own objects
E = Entry

MATRIX.update(
    {
        # --- site -----------------------------------------------------------
        "home": E(PUBLIC, READ_ANY),
        "health": E(PUBLIC, NO_POST),
        "set_language": E(_roles(302, 302, 302, 302, 302, 302), READ_ANY),
        # The Django admin is for developers (is_staff): an administrator of Dugnad
        # has their own pages and is sent to the admin's sign-in like anyone.
        "admin:*": E(_roles(*[302] * 6), _roles(*[302] * 6)),
        # --- platform administration -----------------------------------------------
        "administration": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "administration_studies": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "administration_coordinator": E(ADMINISTRATOR, ADMINISTRATOR_POST),
        "administrators": E(ADMINISTRATOR, ADMINISTRATOR_POST),
        "administrator_remove": E(POST_ONLY, ADMINISTRATOR_POST),
        "my_studies": E(SIGNED_IN, NO_POST | {"anonymous": LOGIN}),
        # --- allauth: sign-in, sign-up, e-mail, passwords, two-factor, single sign-on ---
        "account_login": E(SIGNED_OUT_ONLY, _roles(_, 302, 302, 302, 302, 302)),
        "account_signup": E(SIGNED_OUT_ONLY, _roles(_, 302, 302, 302, 302, 302)),
        "account_request_login_code": E(SIGNED_OUT_ONLY, _roles(_, 302, 302, 302, 302, 302)),
        "account_confirm_login_code": E(_roles(LOGIN, 302, 302, 302, 302, 302), READ_ANY),
        "account_logout": E(_roles(302, 200, 200, 200, 200, 200), READ_ANY),
        "account_inactive": E(PUBLIC, NO_POST),
        "account_reauthenticate": E(SIGNED_IN, SIGNED_IN_POST),
        "account_request_reauthentication_code": E(SIGNED_IN, SIGNED_IN_POST),
        "account_confirm_reauthentication_code": E(
            _roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST
        ),
        "account_email": E(SIGNED_IN, SIGNED_IN_POST),
        "account_email_verification_sent": E(PUBLIC, NO_POST),
        "account_confirm_email": E(PUBLIC, _roles(404, 404, 404, 404, 404, 404)),
        "account_change_password": E(SIGNED_IN, SIGNED_IN_POST),
        # Everyone here has a password already: setting one sends them to change it.
        "account_set_password": E(_roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST),
        "account_reset_password": E(PUBLIC, READ_ANY),
        "account_reset_password_done": E(PUBLIC, NO_POST),
        "account_reset_password_from_key": E(PUBLIC, READ_ANY, note="a bad key shows an error"),
        "account_reset_password_from_key_done": E(PUBLIC, NO_POST),
        "mfa_index": E(SIGNED_IN, _roles(LOGIN, 405, 405, 405, 405, 405)),
        # Adding or changing two-factor asks for the password again first.
        "mfa_activate_totp": E(_roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST),
        "mfa_deactivate_totp": E(_roles(LOGIN, 404, 404, 302, 302, 302), SIGNED_IN_POST),
        "mfa_generate_recovery_codes": E(_roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST),
        "mfa_view_recovery_codes": E(
            _roles(LOGIN, 404, 404, 404, 404, 404), NO_POST | {"anonymous": LOGIN}
        ),
        "mfa_download_recovery_codes": E(_roles(LOGIN, 404, 404, 404, 404, 404), SIGNED_IN_POST),
        # Without a second factor pending there is nothing to authenticate.
        "mfa_authenticate": E(_roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST),
        "mfa_reauthenticate": E(_roles(LOGIN, 302, 302, 200, 200, 200), SIGNED_IN_POST),
        "openid_connect_login": E(
            _roles(404, 404, 404, 404, 404, 404),
            _roles(404, 404, 404, 404, 404, 404),
            note="no provider configured in tests",
        ),
        "openid_connect_callback": E(
            _roles(404, 404, 404, 404, 404, 404), _roles(404, 404, 404, 404, 404, 404)
        ),
        "socialaccount_login_cancelled": E(PUBLIC, NO_POST),
        "socialaccount_login_error": E(_roles(401, 401, 401, 401, 401, 401), NO_POST),
        "socialaccount_signup": E(
            _roles(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
            _roles(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
            note="only inside a provider sign-in",
        ),
        "socialaccount_connections": E(SIGNED_IN, SIGNED_IN_POST),
        # allauth's old addresses: permanent redirects to the ones above.
        "accounts/social/login/cancelled/": E(_roles(*[301] * 6), _roles(*[301] * 6)),
        "accounts/social/login/error/": E(_roles(*[301] * 6), _roles(*[301] * 6)),
        "accounts/social/signup/": E(_roles(*[301] * 6), _roles(*[301] * 6)),
        "accounts/social/connections/": E(_roles(*[301] * 6), _roles(*[301] * 6)),
        # --- the person's own pages (me/) ----------------------------------------
        "profile": E(SIGNED_IN, SIGNED_IN_POST),
        "public_name": E(SIGNED_IN, SIGNED_IN_POST),
        "organisation_lookup": E(SIGNED_IN, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "organisation_join": E(POST_ONLY, SIGNED_IN_POST),
        "organisation_propose": E(POST_ONLY, SIGNED_IN_POST),
        # No role represents the organisation: only administrators decide claims here.
        "claims": E(ADMINISTRATOR, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "claim_decision": E(POST_ONLY, ADMINISTRATOR_POST),
        # Nobody is affiliated with the organisation: leaving it does not exist.
        "organisation_leave": E(POST_ONLY, _roles(LOGIN, 404, 404, 404, 404, 404)),
        "notifications": E(SIGNED_IN, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "notifications_read_all": E(POST_ONLY, SIGNED_IN_POST),
        "notification_read": E(POST_ONLY, OWNER_ONLY_POST),
        "notification_settings": E(SIGNED_IN, SIGNED_IN_POST),
        "mfa_continue": E(
            _roles(LOGIN, 302, 302, 302, 302, 302), _roles(LOGIN, 405, 405, 405, 405, 405)
        ),
        # No identity from a provider waits in the session: nothing to connect, so the
        # anonymous visitor is sent to sign in and a signed-in person to their connections.
        # With one waiting, tests/accounts/test_single_sign_on.py covers who may connect it.
        "sso_connect": E(
            _roles(LOGIN, 302, 302, 302, 302, 302), _roles(LOGIN, 302, 302, 302, 302, 302)
        ),
        "my_data": E(SIGNED_IN, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "data_export_create": E(POST_ONLY, SIGNED_IN_POST),
        # The member's export is still being prepared: not even they can download it yet,
        # and nobody else ever sees it.
        "data_export_download": E(
            _roles(LOGIN, 404, 404, 404, 404, 404), _roles(LOGIN, 405, 405, 405, 405, 405)
        ),
        # Deleting an account asks for the password again first.
        "account_delete": E(_roles(LOGIN, 302, 302, 302, 302, 302), SIGNED_IN_POST),
        # --- studies -------------------------------------------------------------
        "studies:create": E(ADMINISTRATOR, ADMINISTRATOR_POST),
        # The invitation is addressed to the outsider; the link itself is the permission.
        "studies:invitation": E(
            _roles(200, 200, 403, 403, 403, 403), _roles(_, _, 403, 403, 403, 403)
        ),
        "studies:invitation_waiting": E(
            _roles(LOGIN, 200, 404, 404, 404, 404), _roles(LOGIN, _, 404, 404, 404, 404)
        ),
        "studies:settings": E(MANAGE, MANAGE_POST),
        "studies:phases": E(MANAGE, MANAGE_POST),
        "studies:status": E(MANAGE, MANAGE_POST),
        "studies:close": E(MANAGE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "studies:versions": E(PUBLIC, READ_ANY),
        "studies:version_create": E(MANAGE, MANAGE_POST),
        "studies:version_compare": E(PUBLIC, READ_ANY),
        "studies:version_detail": E(PUBLIC, READ_ANY),
        # --- the concept document's passages and amendments ------------------------
        "passages:document": E(PUBLIC, NO_POST),
        "passages:counts": E(PUBLIC, NO_POST),
        "passages:panel": E(PUBLIC, NO_POST),
        "passages:comment": E(POST_ONLY, MEMBERS_POST),
        "passages:amend": E(POST_ONLY, MEMBERS_POST),
        "passages:reply": E(POST_ONLY, MEMBERS_POST),
        "passages:support": E(POST_ONLY, MEMBERS_POST),
        # Only the author withdraws; the staff decide.
        "passages:withdraw": E(POST_ONLY, _roles(LOGIN, 403, ANY, 403, 403, 403)),
        "passages:decide": E(POST_ONLY, MODERATE_POST),
        # Members are sent to the study; administrators may join a public study like anyone.
        "studies:join": E(
            _roles(LOGIN, 200, 302, 302, 302, 200), _roles(LOGIN, _, 302, 302, 302, _)
        ),
        "studies:membership": E(_roles(LOGIN, 403, 200, 200, 200, 403), MEMBERS_POST),
        "studies:leave": E(POST_ONLY, MEMBERS_POST),
        "studies:members": E(MANAGE, MANAGE_POST),
        "studies:member_role": E(POST_ONLY, MANAGE_POST),
        "studies:join_request_decide": E(POST_ONLY, MANAGE_POST),
        "studies:invitations": E(MANAGE, MANAGE_POST),
        "studies:invitation_revoke": E(POST_ONLY, MANAGE_POST),
        # --- contributions ---------------------------------------------------------
        "study_detail": E(PUBLIC, NO_POST),
        # --- search (search/): what is found is filtered per person (tests/search) ---
        "search:search": E(PUBLIC, NO_POST),
        "search:study": E(PUBLIC, NO_POST),
        "contribution_list": E(PUBLIC, MEMBERS_POST),
        # Only the author edits or withdraws (facilitators hide instead).
        "contribution_edit": E(
            _roles(LOGIN, 403, 200, 403, 403, 403), _roles(LOGIN, 403, _, 403, 403, 403)
        ),
        "contribution_withdraw": E(POST_ONLY, _roles(LOGIN, 403, _, 403, 403, 403)),
        "contribution_react": E(POST_ONLY, MEMBERS_POST),
        "contribution_comments": E(PUBLIC, NO_POST),
        "comment_form": E(_roles(LOGIN, 403, 200, 200, 200, 403), MEMBERS_POST),
        "comment_replies": E(PUBLIC, NO_POST),
        "comment_edit": E(
            _roles(LOGIN, 403, 200, 403, 403, 403), _roles(LOGIN, 403, _, 403, 403, 403)
        ),
        "comment_withdraw": E(POST_ONLY, _roles(LOGIN, 403, _, 403, 403, 403)),
        "comment_react": E(POST_ONLY, MEMBERS_POST),
        "item_history": E(MODERATE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "contribution_attachment": E(PUBLIC, NO_POST),
        # --- moderation ----------------------------------------------------------------
        "moderation:overview": E(SIGNED_IN, SIGNED_IN_POST, note="lists only one's own studies"),
        "moderation:queue": E(MODERATE, MODERATE_POST),
        "moderation:log": E(MANAGE, MANAGE_POST),
        "moderation:log_csv": E(MANAGE, MANAGE_POST),
        "moderation:members": E(MODERATE, MODERATE_POST),
        "moderation:member": E(MODERATE, MODERATE_POST),
        "moderation:member_block": E(POST_ONLY, MODERATE_POST),
        "moderation:member_unblock": E(POST_ONLY, MODERATE_POST),
        "moderation:flag": E(POST_ONLY, MEMBERS_POST),
        "moderation:item": E(MODERATE, MODERATE_POST),
        "moderation:item_action": E(POST_ONLY, MODERATE_POST),
        # --- polls and surveys (docs/polls.md) ------------------------------------------
        "polls:manage": E(MODERATE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "polls:create": E(MODERATE, MODERATE_POST),
        "polls:detail": E(PUBLIC, NO_POST, note="results only where this viewer may see them"),
        "polls:vote": E(POST_ONLY, MEMBERS_POST),
        "polls:edit": E(MODERATE, MODERATE_POST),
        "polls:close": E(POST_ONLY, MODERATE_POST),
        "polls:vote_flag": E(POST_ONLY, MEMBERS_POST),
        "polls:vote_hide": E(POST_ONLY, MODERATE_POST),
        "polls:surveys": E(MANAGE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "polls:survey_create": E(MANAGE, MANAGE_POST),
        "polls:survey": E(_roles(LOGIN, 403, 200, 200, 200, 403), MEMBERS_POST),
        "polls:survey_answer_hide": E(POST_ONLY, MODERATE_POST),
        "reports:survey_results": E(MODERATE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        "reports:survey_export": E(MANAGE, _roles(LOGIN, 405, 405, 405, 405, 405)),
        # --- reports: statistics, registry, exports, participation report -----------------
        "reports:definitions": E(PUBLIC, NO_POST),
        "reports:statistics": E(PUBLIC, NO_POST),
        "reports:statistics_live": E(PUBLIC, NO_POST),
        "reports:platform": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "reports:organisations": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "reports:organisation_duplicates": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "reports:organisation": E(ADMINISTRATOR, NO_POST | {"anonymous": LOGIN}),
        "reports:organisation_merge": E(POST_ONLY, ADMINISTRATOR_POST),
        "reports:organisation_verify": E(POST_ONLY, ADMINISTRATOR_POST),
        "reports:organisation_domain_add": E(POST_ONLY, ADMINISTRATOR_POST),
        "reports:organisation_domain_remove": E(POST_ONLY, ADMINISTRATOR_POST),
        "reports:organisation_representative": E(POST_ONLY, ADMINISTRATOR_POST),
        "reports:exports": E(MANAGE, MANAGE_POST),
        "reports:export_status": E(MANAGE, NO_POST | {"anonymous": LOGIN}),
        "reports:export_download": E(MANAGE, NO_POST | {"anonymous": LOGIN}),
        "reports:report": E(PUBLIC, NO_POST),
        "reports:report_download": E(PUBLIC, NO_POST),
        # --- API: pages for people, and the read-only, token-only open data API -------------
        "api:docs": E(PUBLIC, READ_ANY),
        "api:schema": E(PUBLIC, NO_POST),
        # Tokens are for coordinators; the page explains that to everyone else.
        "api:tokens": E(SIGNED_IN, _roles(LOGIN, 403, 403, 403, _, 403)),
        "api:token-revoke": E(POST_ONLY, OWNER_ONLY_POST),
        "api:root": E(PUBLIC, NO_POST),
        "api:study-list": E(PUBLIC, NO_POST),
        "api:study-detail": E(PUBLIC, NO_POST),
        "api:section-list": E(PUBLIC, NO_POST),
        "api:contribution-list": E(PUBLIC, NO_POST),
        "api:contribution-detail": E(PUBLIC, NO_POST),
        "api:comment-list": E(PUBLIC, NO_POST),
        "api:study-statistics": E(PUBLIC, NO_POST),
        # Open data is published when a study closes; this one is open.
        "api:study-open-data": E(_roles(*[409] * 6), NO_POST),
        # Exports need a bearer token: a session cookie is not enough, whoever holds it.
        "api:study-export": E(_roles(*[401] * 6), _roles(*[401] * 6)),
        "api/^(?P<rest>[\\s\\S]*)$": E(_roles(*[404] * 6), _roles(*[404] * 6)),
    }
)


def test_every_url_has_an_entry():
    missing = sorted(set(PATTERNS) - set(MATRIX))
    assert not missing, (
        "These URLs have no entry in the authorisation matrix "
        f"(tests/security/test_authorisation.py, MATRIX): {missing}. Add one per URL name, "
        "saying what each role gets for GET and which roles a POST must refuse."
    )


def test_no_entry_is_left_for_a_url_that_is_gone():
    assert not sorted(set(MATRIX) - set(PATTERNS))


def _mismatches(world: World, key: str) -> list[str]:
    entry = MATRIX[key]
    url = _url(key, world)
    found = []
    for method, expected in (("get", entry.get), ("post", entry.post)):
        for role in ROLES:
            want = expected[role]
            if want == ANY:
                continue
            got = _status(_client_for(world, role), method, url)
            if got != want:
                found.append(f"{method.upper()} {url} as {role}: expected {want}, got {got}")
    return found


def _fingerprint(world: World) -> dict:
    """What a refused request must not change."""
    from accounts.models import (
        Affiliation,
        DataExport,
        Notification,
        Organisation,
        OrganisationDomain,
    )
    from api.models import ApiToken
    from contributions.models import Comment, Contribution, Reaction
    from moderation.models import Flag
    from polls.models import (
        Poll,
        PollChoice,
        PollVote,
        Survey,
        SurveyAnswer,
        SurveyResponse,
        TextFlag,
    )
    from reports.models import Export
    from studies.models import DocumentVersion, Invitation, JoinRequest, Membership, Study

    def rows(model, *fields):
        return sorted(model.objects.values_list("pk", *fields))

    from accounts.models import User

    return {
        "administrators": rows(User, "is_administrator", "is_staff"),
        "studies": rows(Study, "status", "title", "visibility", "joining"),
        "memberships": rows(Membership, "role", "status", "organisation_id"),
        "contributions": rows(Contribution, "state", "title", "body"),
        "comments": rows(Comment, "state", "body"),
        "reactions": rows(Reaction),
        "flags": rows(Flag),
        "versions": rows(DocumentVersion),
        "invitations": rows(Invitation, "accepted_at"),
        "join_requests": rows(JoinRequest, "status"),
        "notifications": rows(Notification, "read_at"),
        "data_exports": rows(DataExport),
        "api_tokens": rows(ApiToken, "revoked_at"),
        "exports": rows(Export),
        "organisations": rows(Organisation, "verified", "merged_into_id"),
        "affiliations": rows(Affiliation, "state", "is_representative", "ended_at"),
        "domains": rows(OrganisationDomain, "domain"),
        "polls": rows(Poll, "question", "closed_at", "revision"),
        "poll_votes": rows(PollVote, "other_text", "text_hidden", "text_flags"),
        "poll_choices": rows(PollChoice, "option_id"),
        "text_flags": rows(TextFlag),
        "surveys": rows(Survey, "title", "closed_at"),
        "survey_responses": rows(SurveyResponse, "status"),
        "survey_answers": rows(SurveyAnswer, "text", "text_hidden"),
    }


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_says(key):
    if key not in PATTERNS:
        pytest.fail(f"{key} is in the matrix but no longer a URL")
    world = build_world()
    before = _fingerprint(world)
    assert _mismatches(world, key) == []
    assert _fingerprint(world) == before, f"a refused request to {key} changed something"


STUDY_SCOPED = sorted(k for k, route in PATTERNS.items() if "<slug:slug>" in route)
# What an outsider of a members-only study may be told: sign in, wrong method, no token,
# or that there is no such study. Never a 200, and never a 403 that admits it exists.
HIDDEN = {LOGIN, 401, 404, 405}


def test_the_members_only_check_covers_the_study_urls():
    assert {"study_detail", "moderation:queue", "reports:exports", "api:study-detail"} <= set(
        STUDY_SCOPED
    )


@pytest.mark.parametrize("key", STUDY_SCOPED)
def test_a_members_only_study_does_not_exist_for_outsiders(key):
    world = build_world(visibility=Visibility.MEMBERS)
    url = _url(key, world)
    found = []
    for role in ("anonymous", "outsider"):
        for method in ("get", "post"):
            got = _status(_client_for(world, role), method, url)
            if got not in HIDDEN:
                found.append(f"{method.upper()} {url} as {role}: {got}")
    assert found == []
    # ...while its members still reach the study page.
    assert _status(_client_for(world, "member"), "get", _url("study_detail", world)) == 200


# --- another study's objects through a study one may act on ---------------------------

# URLs that name an object beside the study: the object must belong to that study.
OBJECT_URLS = sorted(
    k
    for k, route in PATTERNS.items()
    if "<slug:slug>" in route
    and re.search(r"<(int:pk|int:membership_id|int:request_id|int:invitation_id|int:item_id"
                  r"|uuid:token)>", route)
)  # fmt: skip


def test_the_cross_study_check_covers_the_object_urls():
    assert {
        "contribution_edit",
        "moderation:item_action",
        "reports:export_download",
        "studies:member_role",
        "api:contribution-detail",
    } <= set(OBJECT_URLS)


@pytest.mark.parametrize("key", OBJECT_URLS)
def test_another_studys_object_does_not_exist_through_ones_own_study(key):
    """A coordinator, facilitator or author of study A asks for study B's object under A's
    address: it does not exist there (404), and nothing changes. A role that may not do
    the action at all in A is refused as the matrix says (403) before any object is read."""
    own, other = build_world(), build_world()
    kwargs = {**_kwargs(key, other), "slug": own.study.slug}
    url = reverse(key, kwargs=kwargs)
    before = _fingerprint(own)
    found = []
    for role in ("member", "facilitator", "coordinator"):
        for method in ("get", "post"):
            refusal = getattr(MATRIX[key], method)[role]
            allowed = {404, 405} | ({refusal} if refusal == 403 else set())
            got = _status(_client_for(own, role), method, url)
            if got not in allowed:
                found.append(f"{method.upper()} {url} as {role} of the other study: {got}")
    assert found == []
    assert _fingerprint(own) == before
