"""The live server serves pages, static files and a socket to a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_loads_with_its_styles_and_scripts_and_no_console_errors(new_page):
    page = new_page()
    response = page.goto("/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") in (
        "absolute",
        "fixed",
    )
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.console_errors == []
