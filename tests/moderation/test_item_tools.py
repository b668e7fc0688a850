"""One copy of the item moderation controls: what the server renders on each item and
what static/js/moderation.js copies onto items that arrive live are the same markup.

contributions/_item_moderation_tools.html is rendered per item by
contributions/fragments.py and, with every form (state "any"), into the study
page's <template> elements. Filling the template the way the script does must
give exactly the controls the server put on each item.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from contributions import fragments, services
from contributions.models import ItemState
from core import memory
from tests.factories import CommentFactory, ContributionFactory
from tests.moderation.conftest import login, member

pytestmark = pytest.mark.django_db

PLACEHOLDER = re.compile(r"__(ITEM_URL|URL|NEXT|UID)__")
FORM = re.compile(r'<form [^>]*data-show-states="([^"]*)".*?</form>', re.S)
# Each rendering masks the CSRF secret afresh: the values differ, the markup may not.
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


@pytest.fixture(autouse=True)
def _fresh():
    memory.clear_all()
    cache.clear()
    yield
    memory.clear_all()


def live_template(html: str, template_id: str) -> str:
    return re.search(rf'<template id="{template_id}">(.*?)</template>', html, re.S).group(1)


def same_token(html: str) -> str:
    return CSRF.sub(r'\1token"', html)


def server_tools(html: str, dom_id: str) -> str:
    """The controls the server rendered into the item's own .item-tools."""
    start = html.index(f'id="{dom_id}"')
    tools = re.compile(r'<span class="moderation-item-tools".*?</details></span>', re.S)
    return tools.search(html, html.index('<div class="item-tools">', start)).group(0)


def as_the_script_fills_it(template: str, *, state: str, values: dict) -> str:
    """What moderation.js decorate() makes of the template for an item in ``state``."""
    html = PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    html = FORM.sub(lambda m: m.group(0) if state in m.group(1).split(" ") else "", html)
    return f'<span class="moderation-item-tools" data-for-state="{state}">{html}</span>'


@pytest.mark.parametrize("state", [ItemState.PUBLISHED, ItemState.HIDDEN, ItemState.REMOVED])
def test_the_live_template_gives_the_controls_the_server_renders(
    client, study, author, facilitator, state
):
    contribution = ContributionFactory(study=study, author=author, body="Watch deals")
    comment = CommentFactory(contribution=contribution, author=member(study))
    if state != ItemState.PUBLISHED:
        services.item_change_state(item=contribution, state=state, reason="spam")
    login(client, facilitator)
    page = reverse("study_detail", args=[study.slug])
    html = client.get(page).content.decode()
    template = live_template(html, "moderation-facilitator-template")
    assert "__CSRF__" not in template and "csrfmiddlewaretoken" in template
    items = [(contribution, state)]
    if state == ItemState.PUBLISHED:
        items.append((comment, state))
    for item, item_state in items:
        type_ = item.dom_id.split("-")[0]
        item_url = reverse("moderation:item", args=[study.slug, type_, item.pk])
        values = {
            "URL": item_url,
            "ITEM_URL": item_url,
            "NEXT": f"{page}#{item.dom_id}",
            "UID": item.dom_id,
        }
        filled = as_the_script_fills_it(template, state=item_state, values=values)
        assert same_token(filled) == same_token(server_tools(html, item.dom_id))


def test_the_live_template_has_every_form_and_the_same_labels(client, study, facilitator):
    login(client, facilitator)
    html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    template = live_template(html, "moderation-facilitator-template")
    assert [m.group(1) for m in FORM.finditer(template)] == ["published", "hidden removed"]
    for name in ("hide-reason", "hide-note", "restore-reason"):
        assert f'<label for="{name}-__UID__">' in template
        assert f'id="{name}-__UID__"' in template
    # Nothing left of the placeholders the script once filled on its own; no wrapper
    # (the script adds it with the item's state).
    assert "__uid__" not in template and 'action=""' not in template
    assert "moderation-item-tools" not in template


def test_members_get_the_flag_controls_from_the_same_template(client, study, contributor):
    login(client, contributor)
    html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    template = live_template(html, "moderation-flag-template")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', template).group(1)
    source = fragments.moderation_tools_template("flag", "any")
    assert template == source.replace("__CSRF__", unescape(token))
    assert 'action="__URL__"' in template
    assert '<label for="flag-reason-__UID__">' in template


@pytest.mark.parametrize("state", ItemState.values)
def test_filled_for_any_state_the_template_is_the_servers_for_that_state(state):
    values = {"URL": "/u/", "ITEM_URL": "/i/", "NEXT": "/p/#contribution-1", "UID": "c-1"}
    live = fragments.moderation_tools_template("moderate", "any")
    server = PLACEHOLDER.sub(
        lambda m: values[m.group(1)], fragments.moderation_tools_template("moderate", state)
    )
    assert as_the_script_fills_it(live, state=state, values=values) == server
