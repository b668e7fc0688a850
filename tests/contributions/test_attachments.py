import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contributions import services
from contributions.models import Attachment, Contribution, ItemState
from studies.models import Role, Visibility
from tests.contributions.factories import member, posted
from tests.factories import StudyFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
HTML = b"<html><script>alert(1)</script></html>"


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post(client, study, files):
    data = {
        "title": "With files",
        "kind": "idea",
        "body": "See attached.",
        "idempotency_key": str(uuid.uuid4()),
        "attachments": files,
    }
    return client.post(reverse("contribution_list", args=[study.slug]), data, **HTMX)


def test_pdf_png_and_jpeg_are_accepted_with_type_from_content(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = post(
        client, study, [upload("a.pdf", PDF), upload("b.png", PNG), upload("c.jpeg", JPEG)]
    )
    assert response.status_code == 200
    types = sorted(Attachment.objects.values_list("content_type", flat=True))
    assert types == ["application/pdf", "image/jpeg", "image/png"]
    stored = Attachment.objects.get(content_type="application/pdf")
    assert stored.original_name == "a.pdf"
    assert stored.file.name.endswith(".pdf")
    # Our own file name on disk: a random hex name, never the uploaded one.
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.file.name.rsplit("/", 1)[-1])


def test_file_whose_content_lies_about_its_name_is_refused(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = post(client, study, [upload("report.pdf", HTML, "application/pdf")])
    assert response.status_code == 422
    assert "not a PDF, PNG or JPEG" in response.content.decode() or "report.pdf" in (
        response.content.decode()
    )
    assert not Contribution.objects.exists()
    assert not Attachment.objects.exists()


def test_svg_named_png_is_refused():
    study = StudyFactory()
    author = member(study)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    with pytest.raises(services.ValidationError):
        services.contribution_create(
            study=study, author=author, title="t", body="b", attachments=[upload("x.png", svg)]
        )
    assert not Contribution.objects.exists()


def test_file_over_ten_megabytes_is_refused(client):
    study = StudyFactory()
    login_as(client, member(study))
    big = upload("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = post(client, study, [big])
    assert response.status_code == 422
    assert "10 MB" in response.content.decode()
    assert not Contribution.objects.exists()


def test_more_than_three_files_are_refused(client):
    study = StudyFactory()
    login_as(client, member(study))
    response = post(client, study, [upload(f"{n}.pdf", PDF) for n in range(4)])
    assert response.status_code == 422
    assert not Contribution.objects.exists()


def _with_attachment(study):
    contribution = posted(study, attachments=[upload("evil.html.pdf", PDF)])
    return contribution, contribution.attachments.get()


def test_download_is_an_attachment_with_nosniff(client):
    study = StudyFactory()
    _, attachment = _with_attachment(study)
    response = client.get(reverse("contribution_attachment", args=[study.slug, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "evil.html.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_attachment_of_hidden_item_is_served_only_to_facilitators_and_author(client):
    study = StudyFactory()
    contribution, attachment = _with_attachment(study)
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="spam")
    url = reverse("contribution_attachment", args=[study.slug, attachment.pk])
    assert client.get(url).status_code == 404
    login_as(client, member(study))
    assert client.get(url).status_code == 404
    login_as(client, contribution.author)
    assert client.get(url).status_code == 200
    login_as(client, give_mfa(member(study, role=Role.FACILITATOR)))
    assert client.get(url).status_code == 200


def test_attachment_of_members_only_study_is_hidden_from_outsiders(client):
    study = StudyFactory(visibility=Visibility.MEMBERS)
    _, attachment = _with_attachment(study)
    url = reverse("contribution_attachment", args=[study.slug, attachment.pk])
    assert client.get(url).status_code == 404
    login_as(client, UserFactory())
    assert client.get(url).status_code == 404


def test_attachment_is_not_found_through_another_study(client):
    study, other = StudyFactory(), StudyFactory()
    _, attachment = _with_attachment(study)
    url = reverse("contribution_attachment", args=[other.slug, attachment.pk])
    assert client.get(url).status_code == 404


def test_facilitator_without_mfa_does_not_get_hidden_attachments(client):
    study = StudyFactory()
    contribution, attachment = _with_attachment(study)
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="spam")
    login_as(client, member(study, role=Role.FACILITATOR))
    url = reverse("contribution_attachment", args=[study.slug, attachment.pk])
    assert client.get(url).status_code == 404


def test_facilitator_who_has_not_used_totp_in_this_session_does_not_get_hidden_attachments(
    client,
):
    study = StudyFactory()
    contribution, attachment = _with_attachment(study)
    services.item_change_state(item=contribution, state=ItemState.HIDDEN, reason="spam")
    client.force_login(give_mfa(member(study, role=Role.FACILITATOR)))
    url = reverse("contribution_attachment", args=[study.slug, attachment.pk])
    assert client.get(url).status_code == 404


# --- the name and type a download is served under ---------------------------------


def _download(client, study, attachment):
    return client.get(reverse("contribution_attachment", args=[study.slug, attachment.pk]))


def _stored(study, *, name, content, content_type):
    """An attachment as an older release stored it: the uploaded name kept as it was."""
    from django.core.files.base import ContentFile

    contribution = services.contribution_create(
        study=study, author=member(study), title="t", body="b"
    )
    return Attachment.objects.create(
        contribution=contribution,
        file=ContentFile(content, name="stored.bin"),
        original_name=name,
        content_type=content_type,
        size=len(content),
    )


def test_a_pdf_uploaded_as_html_downloads_as_pdf(client):
    study = StudyFactory()
    author = member(study)
    contribution = services.contribution_create(
        study=study, author=author, title="t", body="b", attachments=[upload("report.html", PDF)]
    )
    attachment = contribution.attachments.get()
    assert attachment.original_name == "report.pdf"
    response = _download(client, study, attachment)
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "label", "served_as", "disposition"),
    [
        pytest.param(
            "report.html", PDF, "application/pdf",
            "application/pdf", 'attachment; filename="report.pdf"',
            id="a-name-stored-before-the-fix-is-corrected",
        ),
        pytest.param(
            "photo.pdf", PNG, "text/html",
            "image/png", 'inline; filename="photo.png"',
            id="the-content-decides-not-the-stored-label",
        ),
        pytest.param(
            "page.html", HTML, "application/pdf",
            "application/octet-stream", 'attachment; filename="page.bin"',
            id="none-of-the-checked-types-is-only-a-download",
        ),
    ],
)  # fmt: skip
def test_a_stored_file_is_served_as_its_content_shows(
    client, name, content, label, served_as, disposition
):
    study = StudyFactory()
    attachment = _stored(study, name=name, content=content, content_type=label)
    response = _download(client, study, attachment)
    assert response["Content-Type"] == served_as
    assert response["Content-Disposition"] == disposition
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("picture.jpeg", JPEG, 'inline; filename="picture.jpg"'),
        ("../../etc/passwd", PDF, 'attachment; filename="passwd.pdf"'),
        ("..\\..\\boot.ini", PDF, 'attachment; filename="boot.pdf"'),
        ('a"b\\c.pdf', PDF, 'attachment; filename="c.pdf"'),
        ('quote"d;name.pdf', PDF, 'attachment; filename="quote_d;name.pdf"'),
        ("new\r\nSet-Cookie: x=1.pdf", PDF, 'attachment; filename="newSet-Cookie_ x=1.pdf"'),
        ("tab\there\x01\x7f.pdf", PDF, 'attachment; filename="tabhere.pdf"'),
        # A right-to-left override would show "evil\u202egpj.exe" as "evilexe.jpg".
        ("evil\u202egpj.exe", PNG, 'inline; filename="evilgpj.png"'),
        ("", PDF, 'attachment; filename="attachment.pdf"'),
        ("...", PDF, 'attachment; filename="attachment.pdf"'),
        (".htaccess", PDF, 'attachment; filename="htaccess.pdf"'),
        ("x" * 190 + ".pdf", PDF, f'attachment; filename="{"x" * 100}.pdf"'),
    ],
)
def test_download_names_are_cleaned(client, name, content, expected):
    study = StudyFactory()
    attachment = _stored(study, name=name, content=content, content_type="application/pdf")
    assert _download(client, study, attachment)["Content-Disposition"] == expected


def test_a_non_ascii_name_is_sent_with_an_ascii_fallback_and_rfc_5987_filename(client):
    study = StudyFactory()
    attachment = _stored(
        study, name="Høringssvar – Kåre.docx", content=PDF, content_type="application/pdf"
    )
    response = _download(client, study, attachment)
    assert response["Content-Disposition"] == (
        'attachment; filename="Horingssvar _ Kare.pdf"; '
        "filename*=UTF-8''H%C3%B8ringssvar%20%E2%80%93%20K%C3%A5re.pdf"
    )


def test_the_contribution_shows_the_name_the_file_downloads_under(client):
    study = StudyFactory()
    _stored(study, name="report.html", content=PDF, content_type="application/pdf")
    page = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert ">report.pdf</a>" in page
    assert "report.html" not in page


def test_an_attachment_whose_file_is_gone_is_not_found_not_an_error(client):
    study = StudyFactory()
    attachment = _stored(study, name="gone.pdf", content=PDF, content_type="application/pdf")
    attachment.file.storage.delete(attachment.file.name)
    assert _download(client, study, attachment).status_code == 404
