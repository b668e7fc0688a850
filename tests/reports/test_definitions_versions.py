"""Definitions version 2 on the definitions page, version 1 kept for reports frozen under it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.statistics import DEFINITIONS_VERSION, definitions


def page(client, query="", language="en"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client.get(reverse("reports:definitions") + query).content.decode()


def test_the_page_shows_version_2_with_its_changes(client, db):
    html = page(client)
    assert DEFINITIONS_VERSION == 2
    assert "Statistics definitions version 2." in html
    assert "Changes in version 2" in html
    assert "complementary suppression" in html
    assert 'id="definition-headline"' in html and 'id="definition-closed_studies"' in html


def test_version_1_stays_readable(client, db):
    html = page(client, "?version=1")
    assert "Statistics definitions version 1." in html
    assert "Changes in version" not in html
    assert "is shown as “&lt;k”" in html
    assert 'id="definition-headline"' not in html


@pytest.mark.parametrize("query", ["?version=9", "?version=x", "?version="])
def test_an_unknown_version_shows_the_current_one(client, db, query):
    assert "Statistics definitions version 2." in page(client, query)


def test_version_2_reads_in_bokmal(client, db):
    html = page(client, language="nb")
    assert "Endringer i versjon 2" in html and "Hovedsetning" in html


def test_an_unknown_version_is_refused_by_the_function():
    with pytest.raises(ValueError):
        definitions(3)
