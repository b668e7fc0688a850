# ruff: noqa: F811  (the fixtures come from test_exports_helpers; tests name them as arguments)
"""The exports page, the task that writes the file, and who may download it."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from moderation.models import LogAction, ModerationLog
from reports import services
from reports.exports import PARTICIPANTS, SUMMARY, UnknownExport
from reports.models import Export, ExportStatus
from studies.models import Role, Visibility
from tests.factories import PASSWORD, MembershipFactory, UserFactory, give_mfa, login_as
from tests.reports.test_exports_helpers import (  # noqa: F401 (fixtures)
    _english_and_eager,
    client,
    empty_study,
    read_csv,
    read_json,
    read_xlsx,
    world,
)


def exports_url(study):
    return reverse("reports:exports", args=[study.slug])


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on-commit work (the export task) as it would run after a real commit."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


@pytest.fixture
def ask(client, run_on_commit):
    """Ask for an export as the study's coordinator; returns the Export."""

    def ask_for(world, tier="aggregate", fmt="csv"):
        return request_export(client, world, tier, fmt, run_on_commit)

    return ask_for


def _built(world, run_on_commit, fmt: str):
    """An aggregate export the coordinator asked for through the service, built after commit."""
    return run_on_commit(
        services.export_request,
        study=world.study,
        user=world.coordinator,
        tier="aggregate",
        fmt=fmt,
    )


def request_export(client, world, tier, fmt, run_on_commit):
    login_as(client, world.coordinator)
    response = run_on_commit(client.post, exports_url(world.study), {"tier": tier, "format": fmt})
    assert response.status_code == 302, response.content[:500]
    return Export.objects.get(study=world.study)


def download_url(export):
    return reverse("reports:export_download", args=[export.study.slug, export.token])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- requesting and building ----------------------------------------------------


def test_coordinator_sees_the_exports_page_with_tiers_and_formats(client, world):
    login_as(client, world.coordinator)
    response = client.get(exports_url(world.study))
    assert response.status_code == 200
    content = response.content.decode()
    for value in ("aggregate", "pseudonymous", "named", "csv", "xlsx", "json"):
        assert f'value="{value}"' in content


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_requested_export_is_written_by_the_task_and_downloads_as_attachment(
    client, world, fmt, ask
):
    export = ask(world, "pseudonymous", fmt)
    assert export.status == ExportStatus.DONE
    assert export.progress == 100
    assert export.rows == 5  # alice, bob, carol, dave twice (two organisations)
    assert export.requested_by == world.coordinator
    response = client.get(download_url(export))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert export.filename in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    data = body(response)
    if fmt == "json":
        assert len(read_json(data)["participants"]) == 5
    else:
        sheets = read_csv(data) if fmt == "csv" else read_xlsx(data)
        assert len(sheets[PARTICIPANTS]) == 5
        assert any(r["field"] == "definitions_version" for r in sheets[SUMMARY])


def test_status_fragment_polls_while_running_and_stops_with_a_download_link(client, world, ask):
    export = ask(world)
    url = reverse("reports:export_status", args=[world.study.slug, export.token])
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert download_url(export) in done
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=40)
    running = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'value="40"' in running
    assert download_url(export) not in running


def test_task_records_progress_and_status_while_it_writes(world, monkeypatch, run_on_commit):
    seen = []
    real_write = services.write

    def watching_write(document, fmt, out, progress):
        progress(50)
        row = Export.objects.get(study=world.study)
        seen.append((row.status, row.progress))
        return real_write(document, fmt, out, progress)

    monkeypatch.setattr(services, "write", watching_write)
    export = _built(world, run_on_commit, "json")
    export.refresh_from_db()
    assert seen == [(ExportStatus.RUNNING, 50)]
    assert (export.status, export.progress) == (ExportStatus.DONE, 100)
    assert export.finished_at is not None


def test_failed_export_is_marked_failed_and_has_nothing_to_download(
    client, world, monkeypatch, ask
):
    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "write", broken_write)
    export = ask(world, "aggregate", "xlsx")
    assert export.status == ExportStatus.FAILED
    assert "disk full" in export.error
    assert not export.file
    assert client.get(download_url(export)).status_code == 404


def test_running_the_task_again_keeps_the_finished_file(world, run_on_commit):
    export = _built(world, run_on_commit, "csv")
    export.refresh_from_db()
    name = export.file.name
    again = services.export_build(export_id=export.pk)
    assert again.file.name == name
    assert Export.objects.count() == 1


# --- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        ({"tier": "everything", "format": "csv"}, "Unknown export tier"),
        ({"tier": "aggregate", "format": "pdf"}, "Unknown export format"),
        ({"format": "csv"}, "Choose what the export contains"),
        ({"tier": "named"}, "Choose a file format"),
    ],
)
def test_unknown_tier_or_format_gives_a_clear_error_and_creates_nothing(
    client, world, data, message
):
    login_as(client, world.coordinator)
    response = client.post(exports_url(world.study), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Export.objects.exists()
    assert not ModerationLog.objects.exists()


def test_service_refuses_unknown_tier_or_format_and_creates_nothing(world):
    with pytest.raises(UnknownExport):
        services.export_request(study=world.study, user=world.coordinator, tier="x", fmt="csv")
    with pytest.raises(UnknownExport):
        services.export_request(study=world.study, user=world.coordinator, tier="named", fmt="x")
    assert not Export.objects.exists()


def test_service_refuses_a_facilitator(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.export_request(
            study=world.study, user=world.facilitator, tier="aggregate", fmt="csv"
        )
    assert not Export.objects.exists()


def test_export_of_a_study_without_participants_is_made_with_a_note(
    client, db, settings, run_on_commit
):
    settings.DUGNAD_REQUIRE_MFA = True
    study = empty_study(db)
    coordinator = study.memberships.get(role=Role.COORDINATOR).user
    login_as(client, coordinator)
    run_on_commit(client.post, exports_url(study), {"tier": "named", "format": "json"})
    export = Export.objects.get(study=study)
    assert export.status == ExportStatus.DONE
    payload = read_json(body(client.get(download_url(export))))
    assert payload["totals"]["participants"] == 0
    assert payload["participants"] == []
    assert any("no participants" in note for note in payload["notes"])


# --- named exports and the moderation log -----------------------------------------


def test_named_export_is_written_to_the_moderation_log(client, world, ask):
    export = ask(world, "named", "csv")
    entry = ModerationLog.objects.get(study=world.study)
    assert entry.action == LogAction.EXPORT_NAMED
    assert entry.actor == world.coordinator
    assert (entry.target_type, entry.target_id) == ("export", export.pk)
    assert entry.details["named_people"] == 3  # alice, carol, dave
    assert entry.details["left_out_people"] == 1  # bob did not consent


def _age_authentication(client, seconds: float) -> None:
    """Move every authentication record of the client's session ``seconds`` into the past."""
    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= seconds
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


def test_named_export_download_asks_to_reauthenticate_after_a_few_minutes(
    client, world, ask, settings
):
    settings.NAMED_EXPORT_REAUTHENTICATION_MINUTES = 5
    export = ask(world, "named", "csv")
    _age_authentication(client, 6 * 60)
    response = client.get(download_url(export))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert "next=" in response.url
    # Reauthenticating with the password brings the person back to the file.
    response = client.post(response.url, {"password": PASSWORD})
    assert response.status_code == 302
    assert response.url == download_url(export)
    download = client.get(download_url(export))
    assert download.status_code == 200
    assert world.people["alice"].email.encode() in body(download)


def test_named_export_download_within_the_minutes_needs_no_reauthentication(
    client, world, ask, settings
):
    settings.NAMED_EXPORT_REAUTHENTICATION_MINUTES = 5
    export = ask(world, "named", "csv")
    _age_authentication(client, 4 * 60)
    assert client.get(download_url(export)).status_code == 200


@pytest.mark.parametrize("tier", ["aggregate", "pseudonymous"])
def test_other_tiers_download_without_reauthentication(client, world, tier, ask, settings):
    settings.NAMED_EXPORT_REAUTHENTICATION_MINUTES = 5
    export = ask(world, tier, "csv")
    _age_authentication(client, 60 * 60)
    assert client.get(download_url(export)).status_code == 200


@pytest.mark.parametrize("tier", ["aggregate", "pseudonymous"])
def test_other_tiers_are_not_logged(client, world, tier, ask):
    ask(world, tier, "csv")
    assert not ModerationLog.objects.exists()


def test_named_export_leaves_out_people_who_did_not_consent(client, world, ask):
    export = ask(world, "named", "json")
    payload = read_json(body(client.get(download_url(export))))
    emails = {row["email"] for row in payload["participants"]}
    people = world.people
    assert emails == {people[n].email for n in ("alice", "carol", "dave")}
    assert people["bob"].email not in body(client.get(download_url(export))).decode()


def test_named_export_never_names_a_deleted_account(client, world, ask):
    from accounts.services import account_delete

    account_delete(user=world.people["alice"])
    export = ask(world, "named", "json")
    payload = read_json(body(client.get(download_url(export))))
    assert "@alice" not in {row["name"] for row in payload["participants"]}
    assert payload["totals"]["participants"] == 4  # still counted


# --- who may download ---------------------------------------------------------


def _who(world, role):
    return {
        "member": world.contributor,
        "facilitator": world.facilitator,
        "other_coordinator": world.other_coordinator,
        "staff": world.staff,
        "coordinator": world.coordinator,
    }[role]


@pytest.mark.parametrize(
    "role, status",
    [
        ("member", 403),
        ("facilitator", 403),
        ("other_coordinator", 403),
        ("staff", 403),
        ("coordinator", 200),
    ],
)
def test_download_permission_by_role(client, world, role, status, ask):
    export = ask(world, "named", "csv")
    client.logout()
    login_as(client, _who(world, role))
    assert client.get(download_url(export)).status_code == status
    url = reverse("reports:export_status", args=[world.study.slug, export.token])
    assert client.get(url).status_code == status
    assert client.get(exports_url(world.study)).status_code == status


def test_anonymous_download_is_sent_to_sign_in(client, world, ask):
    export = ask(world)
    client.logout()
    response = client.get(download_url(export))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_any_coordinator_of_the_study_may_download_not_only_the_requester(client, world, ask):
    export = ask(world)
    second = UserFactory()
    MembershipFactory(study=world.study, user=second, role=Role.COORDINATOR)
    give_mfa(second)
    login_as(client, second)
    assert client.get(download_url(export)).status_code == 200


def test_members_only_study_does_not_exist_for_outsiders(client, world, ask):
    export = ask(world)
    world.study.visibility = Visibility.MEMBERS
    world.study.save()
    login_as(client, world.other_coordinator)
    assert client.get(download_url(export)).status_code == 404


def test_export_token_under_another_study_is_not_found(client, world, ask):
    export = ask(world)
    other = world.other_coordinator.memberships.get().study
    login_as(client, world.other_coordinator)
    url = reverse("reports:export_download", args=[other.slug, export.token])
    assert client.get(url).status_code == 404


def test_coordinator_without_two_factor_is_guided_to_set_it_up(client, world, ask):
    export = ask(world)
    no_mfa = UserFactory()
    MembershipFactory(study=world.study, user=no_mfa, role=Role.COORDINATOR)
    login_as(client, no_mfa)
    response = client.get(download_url(export))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_exports_page_and_status_speak_bokmaal(client, world, ask):
    export = ask(world, "named", "xlsx")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    content = client.get(exports_url(world.study)).content.decode()
    assert "Lag eksporten" in content
    assert "Klar: 4 deltakerrader." in content  # alice, carol, dave for two organisations
    assert "Med navn (deltakere som har samtykket)" in content
    response = client.post(exports_url(world.study), {"tier": "alt", "format": "xlsx"})
    assert "Ukjent eksportnivå «alt»." in response.content.decode()
    assert Export.objects.filter(study=world.study).count() == 1
    assert export.status == ExportStatus.DONE


# --- expiry ---------------------------------------------------------------------------


def _age(export, days):
    Export.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=days)
    )


def test_an_export_past_its_time_loses_its_file_and_keeps_its_record(
    client, world, ask, run_on_commit, settings
):
    settings.EXPORT_RETENTION_DAYS = 30
    export = ask(world)
    name = export.file.name
    assert default_storage.exists(name)
    _age(export, 31)
    assert run_on_commit(services.exports_expire) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert not export.file
    assert not default_storage.exists(name)
    assert client.get(download_url(export)).status_code == 404
    page = client.get(exports_url(world.study)).content.decode()
    assert "Expired: the file was removed 30 days after it was made." in page
    assert download_url(export) not in page
    status = reverse("reports:export_status", args=[world.study.slug, export.token])
    assert "hx-trigger" not in client.get(status).content.decode()


def test_a_recent_export_and_one_still_being_made_are_left_alone(
    client, world, ask, run_on_commit, settings
):
    settings.EXPORT_RETENTION_DAYS = 30
    recent = ask(world)
    _age(recent, 29)
    stuck = Export.objects.create(
        study=world.study, requested_by=world.coordinator, tier="aggregate", format="csv",
        status=ExportStatus.RUNNING,
    )  # fmt: skip
    _age(stuck, 40)
    assert run_on_commit(services.exports_expire) == 0
    recent.refresh_from_db()
    stuck.refresh_from_db()
    assert recent.status == ExportStatus.DONE and default_storage.exists(recent.file.name)
    assert stuck.status == ExportStatus.RUNNING
    assert client.get(download_url(recent)).status_code == 200


def test_expiry_runs_hourly_through_celery_beat(world, ask, run_on_commit, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reports-exports-expire"]
    assert entry["task"] == "reports.tasks.exports_expire"
    assert entry["schedule"] <= 3600
    export = ask(world)
    _age(export, settings.EXPORT_RETENTION_DAYS + 1)
    from reports.tasks import exports_expire

    run_on_commit(exports_expire.delay)
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED


def test_the_expired_note_speaks_bokmaal(client, world, ask, run_on_commit, settings):
    settings.EXPORT_RETENTION_DAYS = 30
    export = ask(world)
    _age(export, 31)
    run_on_commit(services.exports_expire)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    page = client.get(exports_url(world.study)).content.decode()
    assert "Utløpt: filen ble slettet 30 dager etter at den ble laget." in page


def test_a_failed_export_is_not_marked_expired(world, run_on_commit, settings):
    failed = Export.objects.create(
        study=world.study, requested_by=world.coordinator, tier="aggregate", format="csv",
        status=ExportStatus.FAILED, error="boom",
    )  # fmt: skip
    _age(failed, settings.EXPORT_RETENTION_DAYS + 1)
    assert run_on_commit(services.exports_expire) == 0
    failed.refresh_from_db()
    assert failed.status == ExportStatus.FAILED


def test_a_late_rerun_of_the_task_does_not_make_an_expired_export_again(
    world, ask, run_on_commit, settings
):
    export = ask(world)
    _age(export, settings.EXPORT_RETENTION_DAYS + 1)
    run_on_commit(services.exports_expire)
    services.export_build(export_id=export.pk)  # acks_late: a task may run again
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert not export.file


# --- the embedded default ----------------------------------------------------------


def test_under_the_embedded_scheduler_an_export_is_made_on_a_thread_with_its_progress(
    client, world, run_on_commit, monkeypatch
):
    """`make run`: the request returns at once and the page shows the export being made."""
    from config import scheduler

    deferred = []
    monkeypatch.setattr(scheduler, "running", lambda: True)
    monkeypatch.setattr(
        scheduler, "later", lambda task, args, kwargs, seconds: deferred.append((task, args))
    )
    login_as(client, world.coordinator)
    response = run_on_commit(
        client.post, exports_url(world.study), {"tier": "aggregate", "format": "csv"}
    )
    assert response.status_code == 302
    export = Export.objects.get(study=world.study)
    assert export.status == ExportStatus.QUEUED  # not made inside the request
    page = client.get(exports_url(world.study)).content.decode()
    assert "<progress" in page and 'hx-trigger="every 1s"' in page
    assert 'id="exports-inline"' not in page
    [(task, args)] = deferred
    task.apply(args=args)  # what the scheduler's thread does
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.progress == 100


def test_without_a_task_queue_the_page_says_exports_are_made_at_once_and_why(client, world, ask):
    export = ask(world)
    assert export.status == ExportStatus.DONE
    page = client.get(exports_url(world.study)).content.decode()
    assert 'id="exports-inline"' in page
    assert "made while you wait" in page
