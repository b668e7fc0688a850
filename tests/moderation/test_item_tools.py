"""One copy of the item moderation controls: what the server renders on each item and
what static/js/moderation.js copies onto items that arrive live are the same markup.

moderation/_item_tools.html is rendered per item by moderation/item_tools.py
and, with every form (state "any"), into the study page's <template>
elements. That the script, filling the template, gives exactly the controls
the server put on each item is shown in Chromium
(tests/browser/test_flows.py).
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from core import memory
from moderation import item_tools
from tests.moderation.conftest import login

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
    source = item_tools.tools_template("flag", "any")
    assert template == source.replace("__CSRF__", unescape(token))
    assert 'action="__URL__"' in template
    assert '<label for="flag-reason-__UID__">' in template
