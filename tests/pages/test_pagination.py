"""Long lists are paged with Designsystemet's pagination (templates/_pagination.html)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Notification
from tests.factories import OrganisationFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db


def _pagination(html: str) -> str:
    found = re.search(r'<nav class="ds-pagination".*?</nav>', html, re.S)
    assert found, "no pagination on the page"
    return found.group(0)


def _hrefs(nav: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]*)"', nav)]


def test_the_registry_pages_keep_the_search_and_mark_the_current_page(client):
    OrganisationFactory.create_batch(160)  # 50 a page: four pages
    login_as(client, give_mfa(UserFactory(is_administrator=True)))
    response = client.get(reverse("reports:organisations"), {"q": "Organisation", "page": 2})
    assert response.status_code == 200
    nav = _pagination(response.content.decode())
    current = re.findall(r'<a [^>]*aria-current="true"[^>]*>(.*?)</a>', nav, re.S)
    assert len(current) == 1 and current[0].endswith(">2")
    hrefs = _hrefs(nav)
    assert all("q=Organisation" in href for href in hrefs)
    assert {"page=1", "page=3", "page=4"} <= {href.rsplit("&", 1)[-1] for href in hrefs}
    assert 'rel="prev"' in nav and 'rel="next"' in nav


def test_the_first_page_has_no_link_back_and_the_last_none_forward(client):
    OrganisationFactory.create_batch(60)
    login_as(client, give_mfa(UserFactory(is_administrator=True)))
    first = _pagination(client.get(reverse("reports:organisations")).content.decode())
    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert '<span class="ds-button" data-variant="tertiary" aria-hidden="true">' in first
    last = _pagination(client.get(reverse("reports:organisations"), {"page": 2}).content.decode())
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_a_long_list_leaves_out_the_middle_pages(client):
    OrganisationFactory.create_batch(50 * 9 + 1)  # ten pages
    login_as(client, give_mfa(UserFactory(is_administrator=True)))
    nav = _pagination(client.get(reverse("reports:organisations"), {"page": 5}).content.decode())
    numbers = [int(n) for n in re.findall(r"</span>(\d+)</a>", nav)]
    assert numbers == [1, 4, 5, 6, 10]
    assert nav.count("<li></li>") == 2  # the gaps, drawn as "…" by Designsystemet


def test_a_single_page_has_no_pagination(client):
    OrganisationFactory.create_batch(3)
    login_as(client, give_mfa(UserFactory(is_administrator=True)))
    assert "ds-pagination" not in client.get(reverse("reports:organisations")).content.decode()


def test_notifications_page_from_newer_to_older_in_bokmal(client):
    person = UserFactory()
    Notification.objects.bulk_create(
        Notification(user=person, kind="other", title=f"News {n}") for n in range(31)
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    login_as(client, person)
    nav = _pagination(client.get(reverse("notifications")).content.decode())
    assert 'aria-label="Sider: side 1 av 2"' in nav
    assert ">Eldre</span></a>" in nav  # the link to the next page
    assert _hrefs(nav)[-1] == "?page=2"


def test_a_hostile_parameter_stays_encoded_in_the_page_links(client):
    person = UserFactory()
    Notification.objects.bulk_create(
        Notification(user=person, kind="other", title=f"News {n}") for n in range(31)
    )
    login_as(client, person)
    hostile = '"><script>alert(1)</script>'
    response = client.get(reverse("notifications"), {"x": hostile, "page": "abc"})
    assert response.status_code == 200  # a page that is not a number is the first page
    nav = _pagination(response.content.decode())
    assert "<script>" not in nav
    assert "x=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&page=2" in _hrefs(nav)[-1]
