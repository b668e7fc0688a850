"""Seed a benchmark database: one public open study, its members with signed-in sessions.

Run by the benchmarks as ``python -m bench.seed --viewers N ...`` with the
run's DATABASE_URL; prints one JSON line: the study, a contribution to
comment on, and the session keys of viewers and posters; with --passages or
--amendments also a published concept document whose paragraphs carry them
(``--document``: the document the page benchmarks measure, 100 passage
comments and 30 amendments, as bench.page and bench.profile seed it).
Items are written in bulk with their HTML rendered as the services render
it; nothing here is used by the application.

``python -m bench.seed --events-of STUDY_ID`` prints the study's events
(seq, created_at as a Unix time, kind) instead, for the checks after a run.
"""

from __future__ import annotations

import argparse
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from contributions.models import (  # noqa: E402
    Amendment,
    Comment,
    Contribution,
    ContributionKind,
    ItemState,
    Passage,
)
from studies.blocks import version_blocks  # noqa: E402
from studies.markdown import render_markdown  # noqa: E402
from studies.models import (  # noqa: E402
    BlockKind,
    DocumentVersion,
    Membership,
    Role,
    Study,
    StudyEvent,
    StudyStatus,
    Visibility,
)

BACKEND = "django.contrib.auth.backends.ModelBackend"
BODY = (
    "A digital assistant should **explain** what it does with my data, in plain words, "
    "and let me *stop* it at any point. See [the sketch](https://example.org/sketch)."
)


# What --document seeds: the page targets hold for a document this busy.
DOCUMENT_PASSAGES = 100
DOCUMENT_AMENDMENTS = 30

# The concept document of --passages/--amendments: a heading and twelve paragraphs.
DOCUMENT = "# The concept\n\n" + "\n\n".join(
    f"Paragraph {i}: the assistant keeps what it is told for {i} days, and says so "
    "before anyone starts to write to it."
    for i in range(1, 13)
)


def session_for(user) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = BACKEND
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def people(prefix: str, count: int) -> list:
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(email=f"{prefix}{i}@bench.example", display_name=f"{prefix.title()} {i}")
            for i in range(count)
        ]
    )
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_update(users, ["password"])
    return users


@transaction.atomic
def seed(args) -> dict:
    study = Study.objects.create(
        slug="bench",
        title="Benchmark study",
        summary="Load test",
        body="# The concept\n\nWritten together.",
        status=StudyStatus.OPEN,
        visibility=Visibility.PUBLIC,
        opens_at=timezone.now() - timezone.timedelta(days=1),
    )
    host, *_ = people("host", 1)
    viewers = people("viewer", args.viewers)
    posters = people("poster", args.posters)
    Membership.objects.bulk_create(
        [Membership(study=study, user=u, role=Role.CONTRIBUTOR) for u in [host, *viewers, *posters]]
    )
    body_html = render_markdown(BODY)
    contributions = Contribution.objects.bulk_create(
        [
            Contribution(
                study=study,
                author=host if i % 3 == 0 else posters[i % len(posters)] if posters else host,
                title=f"Contribution {i}: what the assistant may remember",
                body=BODY,
                body_html=body_html,
                state=ItemState.PUBLISHED,
            )
            for i in range(max(args.contributions, 1))
        ]
    )
    authors = posters or viewers or [host]
    comments = []
    if args.comments:
        per = max(args.comments // len(contributions), 1)
        for c in contributions:
            for j in range(per):
                if len(comments) >= args.comments:
                    break
                comments.append(
                    Comment(
                        study=study,
                        contribution=c,
                        author=authors[(len(comments)) % len(authors)],
                        body=BODY,
                        body_html=body_html,
                        state=ItemState.PUBLISHED,
                    )
                )
        comments = Comment.objects.bulk_create(comments)
        # Every third comment after the first of its contribution replies to that first one.
        replies = []
        first_of: dict[int, Comment] = {}
        for comment in comments:
            first = first_of.setdefault(comment.contribution_id, comment)
            if comment is not first and comment.pk % 3 == 0:
                comment.parent = first
                replies.append(comment)
        Comment.objects.bulk_update(replies, ["parent"])
    pinned = document(study, host, authors, args.passages, args.amendments)
    target = contributions[-1]  # the newest: first on the page
    return {
        "slug": study.slug,
        "study_id": study.pk,
        "contribution_id": target.pk,
        "last_seq": study.last_event_seq,
        "host": session_for(host),
        "viewers": [session_for(u) for u in viewers],
        "posters": [session_for(u) for u in posters],
        "contributions": len(contributions),
        "comments": len(comments),
        **pinned,
    }


def document(study, host, authors, passages: int, amendments: int) -> dict:
    """A published concept document whose paragraphs carry ``passages`` comments and
    ``amendments`` proposed wordings, spread over them in turn (none without both at 0)."""
    if not (passages or amendments):
        return {}
    version = DocumentVersion.objects.create(
        study=study, number="1.0", body=DOCUMENT, change_summary="First.", published_by=host
    )
    blocks = version_blocks(version)
    blocks = [b for b in blocks if b.kind != BlockKind.HEADING] or blocks
    body_html = render_markdown(BODY)
    kinds = [ContributionKind.PASSAGE] * passages + [ContributionKind.AMENDMENT] * amendments
    items = Contribution.objects.bulk_create(
        [
            Contribution(
                study=study,
                author=authors[i % len(authors)],
                title=f"«Paragraph {i % len(blocks) + 1}»",
                body=BODY,
                body_html=body_html,
                kind=kind,
                state=ItemState.PUBLISHED,
            )
            for i, kind in enumerate(kinds)
        ]
    )
    Passage.objects.bulk_create(
        [
            Passage(
                contribution=item, origin=blocks[i % len(blocks)], block=blocks[i % len(blocks)]
            )
            for i, item in enumerate(items)
        ]
    )
    Amendment.objects.bulk_create(
        [
            Amendment(contribution=item, wording=f"{blocks[i % len(blocks)].source} Shorter.")
            for i, item in enumerate(items)
            if item.kind == ContributionKind.AMENDMENT
        ]
    )
    return {"version_id": version.pk, "passages": passages, "amendments": amendments}


def events_of(study_id: int) -> dict:
    rows = StudyEvent.objects.filter(study_id=study_id).order_by("seq")
    return {
        "events": [[e.seq, e.created_at.timestamp(), e.kind] for e in rows],
        "comments": Comment.objects.filter(study_id=study_id).count(),
        "last_seq": Study.objects.get(pk=study_id).last_event_seq,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--posters", type=int, default=10)
    parser.add_argument("--contributions", type=int, default=1)
    parser.add_argument("--comments", type=int, default=0)
    parser.add_argument("--passages", type=int, default=0, help="comments on the document")
    parser.add_argument("--amendments", type=int, default=0, help="amendments to the document")
    parser.add_argument(
        "--document",
        action="store_true",
        help=f"{DOCUMENT_PASSAGES} passage comments and {DOCUMENT_AMENDMENTS} amendments "
        "(unless --passages or --amendments say otherwise)",
    )
    parser.add_argument("--events-of", type=int)
    args = parser.parse_args()
    if args.document:
        args.passages = args.passages or DOCUMENT_PASSAGES
        args.amendments = args.amendments or DOCUMENT_AMENDMENTS
    result = events_of(args.events_of) if args.events_of else seed(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
