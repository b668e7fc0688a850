"""Search: what a person may find, matched, ranked, paged and highlighted.

Permissions are applied in the query (studies the person may view, items in
states they may read) and once more against the live rows of the page, so a
result never shows text that is gone. A page reads a fixed number of queries:
the newest matches with their rank, the page's rows, one per source on it, and
the person's memberships.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.administrators import is_administrator
from accounts.models import ClaimState, Organisation
from accounts.second_factor import second_factor_for
from contributions.models import Comment, Contribution, ItemState
from search.indexing import FTS_TABLE
from search.models import SearchDocument
from search.sources import KINDS, SOURCES
from search.text import ENGLISH, LANGUAGES, NORWEGIAN, ParsedQuery, highlight
from studies.access import FACILITATING
from studies.models import Membership, MembershipStatus, Phase, Study, StudyStatus, Visibility

PAGE_SIZE = 20
MAX_RESULTS = 1000  # counted and paged up to here; past it, "more than 1,000"
PUBLISHED = "published"
REMOVED = "removed"
_STATE_LABELS = dict(ItemState.choices)
# The "state" filter: what the person asks for; visibility still applies.
ALL_STATES = "all"
# What a page never reads of the study of a result (its links take the slug).
_STUDY_TEXT = ("study__body", "study__summary")


@dataclass
class SearchFilters:
    kind: str = ""
    section_id: int | None = None
    organisation_id: int | None = None
    sector: str = ""
    phase: Phase | None = None
    state: str = PUBLISHED
    sort: str = "relevance"


@dataclass
class Result:
    document: SearchDocument
    kind_label: str
    url: str
    heading: SafeString
    snippet: SafeString
    state_label: str = ""
    # The organisation as the item's card names it (the author's claim as it is
    # now, not the snapshot): none once the claim is refused.
    organisation: Organisation | None = None
    organisation_unconfirmed: bool = False


@dataclass
class SearchPage:
    results: list[Result]
    total: int  # at most MAX_RESULTS + 1
    page: int
    pages: int

    @property
    def more_than_max(self) -> bool:
        return self.total > MAX_RESULTS

    @property
    def shown_total(self) -> int:
        return min(self.total, MAX_RESULTS)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _not_blocked(now) -> Q:
    return ~Q(status=MembershipStatus.BLOCKED) | Q(blocked_until__lte=now)


def viewable(user) -> Q:
    """Documents of the studies the person may view (studies.access.can, VIEW).

    Public studies through a join condition and the person's own studies as a
    list of ids (one query), not a subquery: PostgreSQL then reads the GIN
    index once and keeps the rows of the right studies, instead of reading it
    once per study.
    """
    public = Q(study__visibility=Visibility.PUBLIC) & ~Q(study__status=StudyStatus.DRAFT)
    if user is None or not user.is_authenticated:
        return public
    if is_administrator(user):
        return Q()
    now = timezone.now()
    own = []
    for study_id, role, status, until, study_status in (
        Membership.objects.filter(user=user)
        .exclude(status=MembershipStatus.LEFT)
        .values_list("study_id", "role", "status", "blocked_until", "study__status")
    ):
        blocked = status == MembershipStatus.BLOCKED and (until is None or until > now)
        # Drafts: their facilitators and coordinators; others: unless blocked.
        draft = study_status == StudyStatus.DRAFT
        if (role in FACILITATING) if draft else not blocked:
            own.append(study_id)
    return public | Q(study_id__in=own) if own else public


def moderated_study_ids(user) -> list[int]:
    """Studies in which the person reads every item (a facilitator with the second factor)."""
    if user is None or not user.is_authenticated or not second_factor_for(user):
        return []
    return list(
        Membership.objects.filter(user=user, role__in=FACILITATING)
        .exclude(status=MembershipStatus.LEFT)
        .filter(_not_blocked(timezone.now()))
        .values_list("study_id", flat=True)
    )


def _readable(user, moderated: list[int]) -> Q:
    """Documents whose text the person may read (contributions.selectors.item_visible_to)."""
    readable = Q(state=PUBLISHED)
    if user is not None and user.is_authenticated:
        readable |= Q(author_id=user.pk) & ~Q(state=REMOVED)
    if moderated:
        readable |= Q(study_id__in=moderated)
    return readable


def _may_read(document: SearchDocument, user, moderated: list[int]) -> bool:
    if document.state == PUBLISHED:
        return True
    if user is not None and user.is_authenticated and document.author_id == user.pk:
        return document.state != REMOVED
    return document.study_id in moderated


def _match(queryset: QuerySet, query: ParsedQuery) -> tuple[QuerySet, str, list] | None:
    """Documents matching the query in their own language, and the SQL of their rank.

    The rank is an expression over the columns ``c.id``, ``c.language`` (and on
    PostgreSQL ``c.vector``) of the candidates (``_ranked``); None: no words.
    """
    table = SearchDocument._meta.db_table
    where, params, rank_parts, rank_params = [], [], [], []
    for language in LANGUAGES:
        if connection.vendor == "postgresql":
            text = query.websearch(language)
            if text is None:
                continue
            tsquery = f"websearch_to_tsquery('{language}'::regconfig, %s)"
            where.append(f"({table}.language = %s AND {table}.vector @@ {tsquery})")
            params += [language, text]
            rank_parts.append(f"WHEN c.language = %s THEN ts_rank(c.vector, {tsquery})")
            rank_params += [language, text]
        else:
            expression = query.fts5(language)
            if expression is None:
                continue
            where.append(
                f"({table}.language = %s AND {table}.id IN "  # noqa: S608 - constant names; values are parameters
                f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s))"
            )
            params += [language, expression]
            # bm25 is lower for better matches; the title counts double.
            rank_parts.append(
                f"WHEN c.language = %s THEN (SELECT -bm25({FTS_TABLE}, 2.0, 1.0) "  # noqa: S608
                f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND {FTS_TABLE}.rowid = c.id)"
            )
            rank_params += [language, expression]
    if not where:
        return None
    matched = queryset.extra(  # noqa: S610 - built of constants; only parameters come from the person
        where=["(" + " OR ".join(where) + ")"], params=params
    )
    return matched, "CASE " + " ".join(rank_parts) + " ELSE 0 END", rank_params


def _ranked(matched: QuerySet, rank: str, rank_params: list) -> list[tuple[int, float]]:
    """The newest MAX_RESULTS + 1 matches, newest first, each with its rank, in one query.

    The inner query reads the matches (from the GIN index when the words are
    rare, newest first from a time index when they are common) and keeps the
    newest; the rank is computed in the outer query, so for those rows only,
    from the vector the inner query already read: no row is read twice.
    """
    table = SearchDocument._meta.db_table
    newest = matched.order_by("-created_at", "-id")
    if connection.vendor == "postgresql":
        newest = newest.extra(select={"vector": f"{table}.vector"})  # noqa: S610 - a constant
    columns = ("id", "created_at", "language", *newest.query.extra_select)
    try:
        inner, params = newest.values_list(*columns)[: MAX_RESULTS + 1].query.sql_with_params()
    except EmptyResultSet:
        return []  # a condition no row can meet
    sql = (
        f"SELECT c.id, {rank} FROM ({inner}) AS c "  # noqa: S608 - built of constants and Django's SQL
        "ORDER BY c.created_at DESC, c.id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rank_params, *params])
        return [(pk, value or 0.0) for pk, value in cursor.fetchall()]


def _confirmed(condition: Q) -> Q:
    """Items meeting ``condition`` whose author's claim on the organisation is confirmed now.

    Read from the live rows (a claim's decision updates them with ``update()``,
    which the index does not see), as statistics count them: a pending claim's
    items are "unconfirmed", a refused one's the person's own, under no
    organisation or sector (docs/statistics.md).
    """
    confirmed = Q(acted_for_claim=ClaimState.CONFIRMED) & condition
    return Q(
        source="contribution",
        object_id__in=Contribution.objects.filter(confirmed).values("pk"),
    ) | Q(source="comment", object_id__in=Comment.objects.filter(confirmed).values("pk"))


def organisations_to_filter_by(*, user, study: Study | None = None) -> list[tuple[int, str]]:
    """The organisation filter's choices: those that published items one may find name
    under a confirmed claim (a merged duplicate as the organisation it was merged into).

    Never the whole registry (anyone may add an organisation to it), and never an
    organisation only a pending or refused claim names. Two queries and the
    person's memberships.
    """
    scope = Q(study_id=study.pk) if study is not None else viewable(user)
    named = Q(state=PUBLISHED, acted_for_claim=ClaimState.CONFIRMED, acted_for__isnull=False)
    ids: set[int] = set()
    for model in (Contribution, Comment):
        ids.update(
            model.objects.filter(scope & named)
            .values_list(Coalesce("acted_for__merged_into_id", "acted_for_id"), flat=True)
            .distinct()
        )
    return list(
        Organisation.objects.canonical()
        .filter(pk__in=ids)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def _filtered(queryset: QuerySet, filters: SearchFilters) -> QuerySet:
    if filters.kind:
        kind = KINDS[filters.kind]
        queryset = queryset.filter(source=kind.source)
        if kind.condition is not None:
            queryset = queryset.filter(
                object_id__in=kind.model_class.objects.filter(kind.condition).values("pk")
            )
    if filters.section_id is not None:
        queryset = queryset.filter(section_id=filters.section_id)
    if filters.organisation_id is not None:
        # A merged duplicate's items count as the organisation's (docs/statistics.md).
        queryset = queryset.filter(
            Q(organisation_id=filters.organisation_id)
            | Q(organisation__merged_into_id=filters.organisation_id)
        ).filter(
            _confirmed(
                Q(acted_for_id=filters.organisation_id)
                | Q(acted_for__merged_into_id=filters.organisation_id)
            )
        )
    if filters.sector:
        queryset = queryset.filter(sector=filters.sector).filter(
            _confirmed(Q(acted_for_sector=filters.sector))
        )
    if filters.phase is not None:
        queryset = queryset.filter(
            study_id=filters.phase.study_id,
            created_at__gte=filters.phase.starts_at,
            created_at__lt=filters.phase.ends_at,
        )
    if filters.state != ALL_STATES:
        queryset = queryset.filter(state=filters.state)
    return queryset


def search(
    *,
    user,
    query: ParsedQuery,
    filters: SearchFilters,
    page: int = 1,
    study: Study | None = None,
) -> SearchPage | None:
    """One page of what ``user`` may find for ``query``; None when it has no words to find.

    With ``study`` only that study is searched (the caller checked that the
    person may view it); without, every study the person may view.
    """
    moderated = moderated_study_ids(user)
    documents = SearchDocument.objects.filter(_readable(user, moderated))
    if study is not None:
        # As a bigint, so that PostgreSQL reads the study and the words from the
        # one (study_id, vector) index (btree_gin has no int8 = int4 operator).
        documents = documents.filter(study_id=Cast(Value(study.pk), BigIntegerField()))
    else:
        documents = documents.filter(viewable(user))
    matching = _match(_filtered(documents, filters), query)
    if matching is None:
        return None
    matched, rank, rank_params = matching
    # The newest matches, at most MAX_RESULTS: the count, the pages and the set
    # that relevance orders, so no search ranks more than MAX_RESULTS documents
    # (docs/search.md).
    ranked = _ranked(matched, rank, rank_params)
    total = len(ranked)
    ranked = ranked[:MAX_RESULTS]
    pages = max(1, (total - (total > MAX_RESULTS) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    if filters.sort == "relevance":
        # Best first, ties newest first: the list is newest first and the sort is stable.
        ranked = sorted(ranked, key=lambda pair: -pair[1])
    shown = [pk for pk, _rank in ranked[start : start + PAGE_SIZE]]
    rows: list[SearchDocument] = []
    if shown:
        # Not the studies' concept documents (up to 200,000 characters each, and
        # one study per row): a result shows the study's title only.
        related = SearchDocument.objects.select_related("study", "section", "organisation").defer(
            *_STUDY_TEXT
        )
        by_id = {row.pk: row for row in related.filter(pk__in=shown)}
        rows = [by_id[pk] for pk in shown if pk in by_id]
    return SearchPage(
        results=_results(rows, query=query, user=user, moderated=moderated),
        total=total,
        page=page,
        pages=pages,
    )


def _results(rows: list[SearchDocument], *, query, user, moderated) -> list[Result]:
    """The page's results, read from the live rows: whatever changed since is left out."""
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row.source, []).append(row.object_id)
    live: dict[tuple[str, int], object] = {}
    for key, ids in wanted.items():
        source = SOURCES.get(key)
        if source is None:
            continue
        objects = source.model_class.objects.filter(pk__in=ids).select_related(*source.related)
        if "study" in source.related:
            objects = objects.defer(*_STUDY_TEXT)
        for obj in objects:
            live[(key, obj.pk)] = obj
    stems = {language: query.stems(language) for language in (NORWEGIAN, ENGLISH)}
    results = []
    for row in rows:
        obj = live.get((row.source, row.object_id))
        if obj is None:
            continue
        source = SOURCES[row.source]
        if source.fingerprint(obj) != row.fingerprint:
            continue  # changed since it was indexed (a write that bypassed save())
        if not _may_read(row, user, moderated):
            continue
        found = stems[row.language]
        heading = source.heading(obj)
        organisation = getattr(obj, "shown_organisation", None)
        results.append(
            Result(
                document=row,
                kind_label=str(source.label_for(obj)),
                url=source.url(obj),
                heading=highlight(heading, found, row.language),
                # From the live row, as the heading: the index keeps no text.
                snippet=highlight(source.text(obj), found, row.language, snippet=True),
                state_label=_STATE_LABELS.get(row.state, row.state),
                organisation=organisation,
                organisation_unconfirmed=organisation is not None and obj.organisation_unconfirmed,
            )
        )
    return results
