"""axe finds no serious or critical violation on the pages, in both languages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def _blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("language", ["nb", "en"])
def test_home_page_signed_out_has_no_serious_violation(new_page, language):
    page = new_page(language=language)
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == language
    assert _blocking_violations(page) == []


def test_the_check_catches_an_unlabelled_input(new_page):
    page = new_page()
    page.goto("/")
    page.evaluate("document.querySelector('#lang-select').removeAttribute('id')")
    assert any(v.startswith(("label", "select-name")) for v in _blocking_violations(page))
