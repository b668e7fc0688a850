"""Pages are sent gzipped; streamed files, static files and websockets are not touched;
hashed static files are cached for good (core/compression.py, docs/decisions.md)."""

from __future__ import annotations

import gzip
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import StudyFactory, login_as
from tests.security.test_authorisation import _url
from tests.security.world import build_world

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.mark.django_db
def test_a_page_is_gzipped_for_a_browser_that_accepts_it(client):
    study = StudyFactory()
    response = client.get(reverse("study_detail", kwargs={"slug": study.slug}), **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert f"<title>{study.title} – Dugnad</title>" in html


@pytest.mark.django_db
def test_the_gzip_header_varies_in_length_against_breach(client):
    StudyFactory()
    lengths = {len(client.get(reverse("home"), **GZIP).content) for _ in range(8)}
    assert len(lengths) > 1


@pytest.mark.django_db
def test_a_page_is_plain_without_accept_encoding(client):
    response = client.get(reverse("home"))
    assert not response.has_header("Content-Encoding")
    assert b"<html" in response.content


@pytest.mark.django_db
def test_downloads_stream_uncompressed():
    world = build_world()
    member = Client()
    login_as(member, world.users["member"])
    attachment = member.get(_url("contribution_attachment", world), **GZIP)
    coordinator = Client()
    login_as(coordinator, world.users["coordinator"])
    export = coordinator.get(_url("reports:export_download", world), **GZIP)
    for response in (attachment, export):
        assert response.status_code == 200
        assert response.streaming
        assert not response.has_header("Content-Encoding")
    assert b"".join(export.streaming_content) == b"figure,value\n"


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_is_not_touched_by_compression():
    from config.asgi import application
    from studies import events

    study = await sync_to_async(StudyFactory)()
    communicator = WebsocketCommunicator(
        application,
        f"/ws/studies/{study.slug}/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"accept-encoding", b"gzip")],
    )
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(events.send_ephemeral)(study_id=study.pk, kind="viewers", data={"count": 1})
    message = json.loads(await communicator.receive_from(timeout=5))
    await communicator.disconnect()
    assert message["type"] == "viewers"


def test_hashed_static_files_are_cached_for_good(settings, tmp_path):
    """As in production: collectstatic with the manifest storage, WhiteNoise serving."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.contrib.staticfiles.storage import staticfiles_storage

    hashed = staticfiles_storage.url("css/dugnad.css")
    assert hashed != "/static/css/dugnad.css"  # a hash in the name
    middleware = WhiteNoiseMiddleware(lambda request: None)
    from django.test import RequestFactory

    factory = RequestFactory()
    cached = middleware(factory.get(hashed, HTTP_ACCEPT_ENCODING="gzip"))
    assert cached.status_code == 200
    assert "immutable" in cached["Cache-Control"]
    assert "max-age=315360000" in cached["Cache-Control"]
    assert cached["Content-Encoding"] == "gzip"  # precompressed by collectstatic
    plain = middleware(factory.get("/static/css/dugnad.css"))
    assert "immutable" not in plain["Cache-Control"]
    manifest = middleware(factory.get(staticfiles_storage.url("manifest.webmanifest")))
    assert manifest["Content-Type"] == "application/manifest+json"


@pytest.mark.django_db
def test_the_page_links_its_icons_and_manifest(client):
    from django.contrib.staticfiles import finders

    html = client.get(reverse("home")).content.decode()
    linked = ["icons/favicon.ico", "icons/icon.svg", "icons/apple-touch-icon.png"]
    for path in [*linked, "manifest.webmanifest"]:
        assert f'/static/{path}"' in html
    with open(finders.find("manifest.webmanifest")) as handle:
        icons = [icon["src"] for icon in json.load(handle)["icons"]]
    assert {"icons/icon-192.png", "icons/icon-512.png"} <= set(icons)
    for path in linked + icons:
        assert finders.find(path), path
