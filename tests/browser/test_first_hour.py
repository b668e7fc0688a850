"""The first hour: a platform administrator takes a study from nothing to an export, with no
Django admin and no shell.

The administrator signs in with two-factor, creates a study and appoints its coordinator by
invitation; the coordinator accepts from the e-mail (its link leads to this server), opens
the study; a contributor joins and posts; the statistics page counts them; the coordinator
exports.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from playwright.sync_api import expect

from contributions.models import Contribution
from reports.models import Export, ExportStatus
from studies.models import Membership, Role, Study, StudyStatus
from tests.browser.conftest import message_text, sign_in_as
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _administrator_with_two_factor():
    admin = UserFactory(
        email="admin@first-hour.example", display_name="Ada Administrator", is_administrator=True
    )
    # The live server does not know the tests' fast hasher: a hash it verifies.
    admin.password = PBKDF2PasswordHasher().encode(PASSWORD, "firsthoursalt", iterations=1000)
    admin.save(update_fields=["password"])
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)
    return admin, secret


def _code(secret: str) -> str:
    # A code is good for its 30-second window only: not one about to end, on a slow machine.
    while 30 - time.time() % 30 < 4:
        time.sleep(0.25)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_an_administrator_takes_a_study_from_nothing_to_an_export(new_page, asgi_server):
    admin_user, secret = _administrator_with_two_factor()
    coordinator_user = UserFactory(email="coordinator@first-hour.example", display_name="Cora")
    contributor_user = UserFactory(display_name="Conrad Contributor")

    # The administrator signs in: password, then the code from the authenticator app.
    admin = new_page(language="en")
    admin.goto("/accounts/login/")
    admin.locator("input[name=login]").fill(admin_user.email)
    admin.locator("input[name=password]").fill(PASSWORD)
    admin.locator("form:has(input[name=password]) [type=submit]").first.click()
    expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    admin.locator("input[name=code]").fill(_code(secret))
    admin.locator("form:has(input[name=code]) [type=submit]").first.click()
    expect(admin).not_to_have_url(re.compile(r"/accounts/"))

    # Administration is in the header; from there, create a study.
    admin.get_by_role("link", name="Administration", exact=True).first.click()
    expect(admin.get_by_role("heading", name="Administration")).to_be_visible()
    admin.get_by_role("link", name="Create a study").first.click()
    admin.get_by_label("Title").fill("Shared front door")
    # The form proposes the next hour; this study opens for contributions at once.
    opens = timezone.localtime(timezone.now() - timedelta(hours=1))
    admin.get_by_label("Opens").fill(opens.strftime("%Y-%m-%dT%H:%M"))
    admin.get_by_label("Invite someone by e-mail").check()
    admin.get_by_label("Coordinator's e-mail address").fill(coordinator_user.email)
    admin.get_by_role("button", name="Create the draft").click()
    expect(admin.get_by_text(f"Invited: {coordinator_user.email} (waiting)")).to_be_visible()
    study = Study.objects.get(title="Shared front door")
    assert study.status == StudyStatus.DRAFT
    section = study.sections.get()
    assert study.phases.count() == 1

    # The coordinator follows the link in the e-mail: it leads to this server.
    text = message_text(asgi_server.wait_for_message(to=coordinator_user.email))
    link = re.search(r"(https?://\S+)/studies/invitation/\S+/", text)
    assert link, text
    assert link.group(1) == asgi_server.url
    coordinator = new_page(language="en", accept_downloads=True)
    coordinator.goto("/health/")
    sign_in_as(coordinator, coordinator_user)
    coordinator.goto(link.group(0))
    expect(coordinator.get_by_text("You are invited as the study's coordinator")).to_be_visible()
    coordinator.get_by_role("button", name="Accept and join").click()
    assert Membership.objects.get(study=study, user=coordinator_user).role == Role.COORDINATOR

    # ...and opens the study from its status page.
    coordinator.goto(f"/studies/{study.slug}/status/")
    coordinator.get_by_role("button", name="Open the study").click()
    expect(coordinator.get_by_text("The study's status is changed.")).to_be_visible()
    study.refresh_from_db()
    assert study.status == StudyStatus.OPEN

    # A contributor joins and posts.
    contributor = new_page(language="en")
    contributor.goto("/health/")
    sign_in_as(contributor, contributor_user)
    contributor.goto(f"/studies/{study.slug}/")
    contributor.get_by_role("link", name="Join the study").first.click()
    contributor.get_by_role("button", name="Join the study").click()
    form = contributor.locator("#contribution-form")
    expect(form).to_be_visible()
    form.locator("[name=title]").fill("One door for every service")
    form.locator("[name=body]").fill("Start with the three most used services.")
    if form.locator("[name=section]").count():
        form.locator("[name=section]").select_option(str(section.pk))
    form.get_by_role("button", name="Post").click()
    expect(contributor.locator("#contributions .contribution h3")).to_have_text(
        ["One door for every service"]
    )
    assert Contribution.objects.filter(study=study, author=contributor_user).exists()

    # The statistics page counts them; the coordinator reaches it, and exports, from the
    # study page.
    coordinator.goto(f"/studies/{study.slug}/")
    coordinator.get_by_role("link", name="Statistics").first.click()
    expect(coordinator.get_by_text("1 person contributed 1 contribution")).to_be_visible()
    coordinator.goto(f"/studies/{study.slug}/")
    coordinator.get_by_role("link", name="Exports").first.click()
    coordinator.get_by_label("Aggregate").check()
    coordinator.get_by_label("CSV").check()
    coordinator.get_by_role("button", name="Make the export").click()
    download = coordinator.locator(".export-status a[download]").first
    expect(download).to_be_visible(timeout=30_000)
    with coordinator.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.endswith(".csv")
    assert Export.objects.get(study=study).status == ExportStatus.DONE
    for page in (admin, coordinator, contributor):
        assert page.console_errors == [], page.console_errors
