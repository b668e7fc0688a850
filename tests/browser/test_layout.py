"""Every page type fits a phone and a desktop: no sideways scrolling, no target under
24 x 24 px outside a sentence, and axe stays clean.

The pages come from the URL configuration through the authorisation matrix
(tests/security/test_authorisation.py): every URL that some role may open with a
GET is visited, signed out or as the least-privileged role that may open it, and
the study's pages again as its coordinator, who sees every tool; the home, study,
statistics and poll pages, which change most with the person, as every role. Each
role gets one browser context (its own session); every page is looked at 390 px wide (a
phone) and 1280 px wide (a desktop). Answers that are not a whole page (JSON,
CSV, downloads, and the fragments htmx loads into a page) are not page types and
are left out; the study page, where those fragments appear, is checked.
"""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _blocking_violations
from tests.security.test_authorisation import MATRIX, PATTERNS, _url
from tests.security.world import ROLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)
# The lowest role first: a page is looked at by the first role here that may open it.
VISITING_ORDER = ("anonymous", "outsider", "member", "facilitator", "coordinator", "administrator")
# Pages every role may open, and a few that differ most by role, are also seen by the
# coordinator (staff tools in the study header, full statistics).
ALSO_AS_COORDINATOR = "<slug:slug>"
# The pages that change most with the person looking (the header, the posting form, a
# member's tools, the facilitator's moderation tools, the staff links, full figures) are
# seen by every role that may open them: visitor, outsider, member, facilitator,
# coordinator and administrator.
SEEN_BY_EVERY_ROLE = {"home", "study_detail", "reports:statistics", "polls:detail"}
# Not pages: the health probe, the Django admin, and stored files (the live server has a
# media folder of its own, so the world's files are not there to download).
NOT_A_PAGE = {"health", "admin:*", "contribution_attachment", "reports:export_download"}


def _visits() -> dict[str, list[str]]:
    """Which URL names each role visits."""
    visits: dict[str, list[str]] = {role: [] for role in ROLES}
    for key, entry in MATRIX.items():
        if key in NOT_A_PAGE:
            continue
        allowed = [role for role in VISITING_ORDER if entry.get.get(role) == 200]
        if not allowed:
            continue
        if key in SEEN_BY_EVERY_ROLE:
            for role in allowed:
                visits[role].append(key)
            continue
        visits[allowed[0]].append(key)
        route = PATTERNS.get(key, "")
        if (
            ALSO_AS_COORDINATOR in route
            and allowed[0] != "coordinator"
            and "coordinator" in allowed
        ):
            visits["coordinator"].append(key)
    return visits


VISITS = _visits()

SIDEWAYS = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  // The outermost elements sticking out, outside a scrollable region, say where to look.
  const out = [...document.querySelectorAll("body *")].filter(
    (e) => !e.closest("[role=region]") && e.getBoundingClientRect().right > width + 1
  );
  const tops = out.filter((e) => !out.includes(e.parentElement)).slice(0, 3);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    culprits: tops.map((e) => {
      const classes = String(e.className || "").trim().split(/\\s+/).filter(Boolean);
      return [e.tagName.toLowerCase(), ...classes].join(".");
    }),
  };
}"""


# Targets smaller than 24 x 24 px (WCAG 2.2's 2.5.8), leaving out the standard's own
# exception for a link inside a sentence, whose size the line of text sets.
SMALL_TARGETS = """() => {
  const targets = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
  );
  const small = [];
  for (const e of targets) {
    const box = e.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(e).visibility === "hidden") continue;
    if (box.width >= 24 && box.height >= 24) continue;
    if (box.width <= 1 && box.height <= 1) continue;  // hidden until focused: the skip link
    const block = e.closest("p, li, td, th, dd, dt, label, legend, caption, h1, h2, h3, h4");
    const text = (e.textContent || "").trim();
    if (e.tagName === "A" && block && block.textContent.trim() !== text) continue;  // in a sentence
    const classes = String(e.className || "").trim().split(/\\s+/).filter(Boolean);
    small.push(`${[e.tagName.toLowerCase(), ...classes].join(".")} "${text.slice(0, 30)}" `
      + `${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  return small.slice(0, 5);
}"""


def small_targets(page) -> list[str]:
    """Targets under 24 x 24 px that no sentence around them excuses."""
    return page.evaluate(SMALL_TARGETS)


def sideways_scrolling(page) -> dict | None:
    """None when the page fits its viewport; otherwise how far it sticks out and where."""
    return page.evaluate(SIDEWAYS)


def _is_html(headers: dict) -> bool:
    content_type = (headers.get("content-type") or "").split(";")[0].strip()
    disposition = headers.get("content-disposition") or ""
    return content_type == "text/html" and "attachment" not in disposition


def test_every_role_has_pages_to_look_at():
    """The list is built from the URL configuration and covers every kind of person."""
    assert {"study_detail", "reports:statistics", "studies:versions", "account_login"} <= set(
        VISITS["anonymous"]
    )
    assert "study_detail" in VISITS["coordinator"]
    assert "moderation:queue" in VISITS["facilitator"]
    assert "reports:exports" in VISITS["coordinator"]
    assert "administration" in VISITS["administrator"]
    assert "profile" in VISITS["outsider"]
    assert "studies:membership" in VISITS["member"]
    for role in ROLES:
        assert {"home", "study_detail", "reports:statistics"} <= set(VISITS[role]), role


@pytest.mark.parametrize("role", [r for r in ROLES if VISITS[r]])
def test_every_page_fits_a_phone_and_a_desktop(browser, asgi_server, role):
    from playwright.sync_api import expect

    from tests.browser.conftest import EXPECT_TIMEOUT, sign_in_as
    from tests.security.world import build_world

    expect.set_options(timeout=EXPECT_TIMEOUT)
    world = build_world()
    context = browser.new_context(
        base_url=asgi_server.url, locale="nb-NO", viewport={"width": WIDTHS[0], "height": 800}
    )
    try:
        page = context.new_page()
        page.base_url = asgi_server.url
        if world.users[role] is not None:
            page.goto("/health/")
            sign_in_as(page, world.users[role])
        problems: list[str] = []
        checked: list[str] = []
        for key in VISITS[role]:
            url = _url(key, world)
            # Asked first with the context's cookies, so that downloads are not opened as pages.
            answer = context.request.get(url, max_redirects=0)
            if answer.status != 200:
                problems.append(f"{key} {url}: {answer.status}")
                continue
            if not _is_html(answer.headers):
                continue  # data or a download: not a page type
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                response = page.goto(url)
                if response is None or response.status != 200:
                    problems.append(f"{key} {url}: {response and response.status} at {page.url}")
                    break
                if page.locator("main#main").count() != 1:
                    break  # a fragment htmx loads into a page: checked as part of that page
                checked.append(f"{key}@{width}")
                wide = sideways_scrolling(page)
                if wide:
                    problems.append(f"{key} {url} at {width} px scrolls sideways: {wide}")
                small = small_targets(page)
                if small:
                    problems.append(f"{key} {url} at {width} px: targets under 24 px: {small}")
                violations = _blocking_violations(page)
                if violations:
                    problems.append(f"{key} {url} at {width} px: {violations}")
        assert checked, f"no page was checked for {role}"
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_the_check_catches_a_page_wider_than_the_phone(new_page):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/")
    assert sideways_scrolling(page) is None
    page.evaluate(
        "() => { const d = document.createElement('div'); d.className = 'too-wide';"
        " d.textContent = 'x'; d.style.width = '700px'; document.querySelector('main').append(d); }"
    )
    wide = sideways_scrolling(page)
    assert wide is not None
    assert wide["scrollWidth"] > wide["innerWidth"] == 390
    assert "div.too-wide" in wide["culprits"]


def test_the_check_catches_a_small_target_but_not_a_link_in_a_sentence(new_page):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/")
    assert small_targets(page) == []
    page.evaluate(
        "() => { const main = document.querySelector('main');"
        " const p = document.createElement('p');"
        " p.innerHTML = 'Read <a href=\\'/\\'>this</a> first.';"
        " const b = document.createElement('button'); b.className = 'tiny'; b.textContent = 'x';"
        " b.style.cssText = 'all: unset; font-size: 10px;'; main.append(p, b); }"
    )
    small = small_targets(page)
    assert len(small) == 1 and small[0].startswith('button.tiny "x"')


def test_a_wide_table_scrolls_inside_its_labelled_region(new_page):
    """The study's version list: at 390 px its table scrolls in a region a keyboard can reach."""
    from tests.security.world import build_world

    world = build_world()
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/studies/{world.study.slug}/versions/")
    region = page.locator("[role=region]:has(table)").first
    assert region.get_attribute("tabindex") == "0"
    label_id = region.get_attribute("aria-labelledby")
    assert label_id and page.locator(f"#{label_id}").inner_text().strip()
    assert sideways_scrolling(page) is None
