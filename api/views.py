"""The read-only API: thin views over api.selectors, plus the token page.

Public endpoints answer every client alike: they fetch studies as an
anonymous visitor would (studies.access), so members-only studies and drafts
do not exist here. Export endpoints need a personal token whose owner
coordinates the study.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.second_factor import has_totp, require_second_factor, second_factor_url
from api import selectors
from api.caching import apply_caching
from api.exceptions import InvalidQuery, NotYetPublished
from api.exports import EXPORT_TIERS, study_export
from api.forms import ApiTokenForm
from api.models import ApiToken
from api.opendata import open_data_archive
from api.pagination import MAX_PAGE_SIZE, ApiPagination
from api.serializers import (
    MAX_ID,
    CommentQuery,
    CommentSerializer,
    ContributionQuery,
    ContributionSerializer,
    ErrorSerializer,
    ExportQuery,
    ExportSerializer,
    RootSerializer,
    SectionSerializer,
    StatisticsSerializer,
    StudyDetailSerializer,
    StudyQuery,
    StudySerializer,
)
from api.services import api_token_create, api_token_revoke
from api.statistics import public_statistics
from api.throttling import ApiClientThrottle, BulkDownloadThrottle
from core.memory import Memory

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Unknown or malformed query parameters."),
    401: OpenApiResponse(
        ErrorSerializer, description="The token is malformed, unknown or revoked."
    ),
    404: OpenApiResponse(
        ErrorSerializer, description="No such public study or item, or a page out of range."
    ),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests; see Retry-After."),
}


SLUG = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=r"^[-a-zA-Z0-9_]+$",
    description="The study's short name.",
)
ITEM_ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    OpenApiParameter.PATH,
    description="The item's number.",
)


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class ApiView(generics.GenericAPIView):
    """Validates the query string strictly and sets caching headers."""

    query_serializer_class = None
    public = True
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.query = self.validate_query(request)

    def validate_query(self, request) -> dict:
        serializer_class = self.query_serializer_class
        allowed = set(serializer_class().fields) if serializer_class else set()
        paginator = self.paginator
        if paginator is not None:
            allowed |= {paginator.page_query_param, paginator.page_size_query_param}
        errors: dict[str, list[str]] = {}
        for name in request.query_params:
            if name not in allowed:
                errors[name] = [_("Unknown query parameter.")]
            elif len(request.query_params.getlist(name)) > 1:
                errors[name] = [_("Give this parameter once.")]
        if paginator is not None:
            limits = {
                paginator.page_query_param: None,
                paginator.page_size_query_param: MAX_PAGE_SIZE,
            }
            for name, maximum in limits.items():
                value = request.query_params.get(name)
                if value is None or name in errors:
                    continue
                digits = value.lstrip("0")
                if not value.isascii() or not value.isdigit() or not digits:
                    errors[name] = [_("Give a whole number of 1 or more.")]
                elif len(digits) > 18 and maximum is None:
                    # Far past any last page; int() of a huge string would be slow or fail.
                    raise exceptions.NotFound(_("Not found."))
                elif maximum is not None and (len(digits) > 18 or int(digits) > maximum):
                    errors[name] = [
                        _("Give a whole number from 1 to %(maximum)d.") % {"maximum": maximum}
                    ]
        data = {}
        if serializer_class is not None:
            raw = {k: v for k, v in request.query_params.items() if k in allowed}
            serializer = serializer_class(data=raw)
            if not serializer.is_valid():
                for name, messages_ in serializer.errors.items():
                    errors.setdefault(name, [str(m) for m in messages_])
            else:
                data = serializer.validated_data
        if errors:
            raise InvalidQuery(errors)
        return data

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "_auth", None)
        public = self.public and not isinstance(token, ApiToken)
        if public:
            # Open data: any web page may read it (no credentials are involved).
            response["Access-Control-Allow-Origin"] = "*"
        return apply_caching(request._request, response, public=public)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["study"] = getattr(self, "study", None)
        return context

    def lookup_item_id(self) -> int:
        pk = self.kwargs["pk"]
        if pk > MAX_ID:
            raise Http404
        return pk


class ApiRoot(ApiView):
    @extend_schema(
        tags=["studies"],
        summary="Where to start: the study list, the schema and the documentation",
        responses={200: RootSerializer, **_errors(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        link = request.build_absolute_uri
        return Response(
            {
                "studies": link(reverse("api:study-list")),
                "schema": link(reverse("api:schema")),
                "documentation": link(reverse("api:docs")),
            }
        )


class StudyList(ApiView, generics.ListAPIView):
    """Public studies (open, closed or archived), ordered by id."""

    serializer_class = StudySerializer
    query_serializer_class = StudyQuery
    pagination_class = ApiPagination

    @extend_schema(
        tags=["studies"],
        summary="Public studies (open, closed or archived), ordered by id",
        parameters=[StudyQuery],
        responses={200: StudySerializer(many=True), **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.public_studies(
            status=self.query.get("status"), updated_since=self.query.get("updated_since")
        )


class StudyDetail(ApiView, generics.RetrieveAPIView):
    serializer_class = StudyDetailSerializer

    @extend_schema(
        tags=["studies"],
        summary="A public study with its sections",
        parameters=[SLUG],
        responses={200: StudyDetailSerializer, **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return selectors.public_study(slug=self.kwargs["slug"])


class SectionList(ApiView, generics.ListAPIView):
    serializer_class = SectionSerializer
    pagination_class = ApiPagination

    @extend_schema(
        tags=["studies"],
        summary="Sections of a public study, in their order",
        parameters=[SLUG],
        responses={200: SectionSerializer(many=True), **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.study = selectors.public_study(slug=self.kwargs["slug"])
        return self.study.sections.order_by("order", "id")


class ContributionList(ApiView, generics.ListAPIView):
    serializer_class = ContributionSerializer
    query_serializer_class = ContributionQuery
    pagination_class = ApiPagination

    @extend_schema(
        tags=["items"],
        summary="Contributions of a public study, ordered by id",
        description=(
            "Published contributions with their text; hidden, removed and withdrawn ones as "
            "markers (state and reason, no text or author). Pending and rejected items are "
            "not listed."
        ),
        parameters=[SLUG, ContributionQuery],
        responses={200: ContributionSerializer(many=True), **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.study = selectors.public_study(slug=self.kwargs["slug"])
        return selectors.study_contributions(
            study=self.study,
            section=self.query.get("section"),
            kind=self.query.get("kind"),
            state=self.query.get("state"),
            updated_since=self.query.get("updated_since"),
        )


class ContributionDetail(ApiView, generics.RetrieveAPIView):
    serializer_class = ContributionSerializer

    @extend_schema(
        tags=["items"],
        summary="One contribution of a public study",
        parameters=[SLUG, ITEM_ID],
        responses={200: ContributionSerializer, **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        self.study = selectors.public_study(slug=self.kwargs["slug"])
        found = (
            selectors.study_contributions(study=self.study).filter(pk=self.lookup_item_id()).first()
        )
        if found is None:
            raise Http404
        return found


class CommentList(ApiView, generics.ListAPIView):
    serializer_class = CommentSerializer
    query_serializer_class = CommentQuery
    pagination_class = ApiPagination

    @extend_schema(
        tags=["items"],
        summary="Comments and replies of a public study, ordered by id",
        description=(
            "Published comments with their text; hidden, removed and withdrawn ones as markers. "
            "Use `parent` to rebuild the threads."
        ),
        parameters=[SLUG, CommentQuery],
        responses={200: CommentSerializer(many=True), **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.study = selectors.public_study(slug=self.kwargs["slug"])
        return selectors.study_comments(
            study=self.study,
            contribution=self.query.get("contribution"),
            section=self.query.get("section"),
            kind=self.query.get("kind"),
            state=self.query.get("state"),
            updated_since=self.query.get("updated_since"),
        )


class IsTokenHolder(BasePermission):
    """Export endpoints need a valid personal token."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.NotAuthenticated(
                _("This endpoint needs a personal API token: 'Authorization: Bearer <token>'.")
            )
        return True


# --- Token page (HTML, signed-in coordinators) --------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List, and create, the person's tokens; a new secret is shown in this answer only."""
    allowed = selectors.may_create_api_tokens(request=request)
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_secret = None
    status = 200
    if request.method == "POST":
        if not selectors.coordinates_a_study(user=request.user):
            raise PermissionDenied
        require_second_factor(request)  # guided: set up TOTP, or confirm with it
        if form.is_valid():
            try:
                _token, new_secret = api_token_create(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as error:
                form.add_error("name", error)
        if new_secret:
            form = ApiTokenForm()
        else:
            status = 400
    needs_mfa = not allowed and selectors.coordinates_a_study(user=request.user)
    response = render(
        request,
        "api/tokens.html",
        {
            "allowed": allowed,
            "form": form,
            "new_secret": new_secret,
            "tokens": selectors.api_tokens_of(user=request.user),
            "studies": selectors.coordinated_studies(user=request.user),
            "needs_mfa": needs_mfa,
            "has_totp": needs_mfa and has_totp(request.user),
            "second_factor_url": (
                second_factor_url(request.user, request.get_full_path()) if needs_mfa else ""
            ),
            "docs_url": reverse("api:docs"),
        },
        status=status,
    )
    # The secret must not linger in a cache or the browser's history store.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = api_token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api:tokens")


# --- Statistics, open data, exports --------------------------------------------


class StudyStatistics(ApiView):
    @extend_schema(
        tags=["statistics"],
        summary="Aggregate participation statistics of a public study",
        parameters=[SLUG],
        description=(
            "Totals, by sector, by organisation and per day, with the statistics definitions "
            "version. Organisations with fewer participants than the study's small-count "
            "threshold are withheld, with the further figures needed so that none can be "
            "worked out from the rest (null; `participants_display` “withheld”). A closed "
            "study gives its frozen report's figures, with `frozen_at`."
        ),
        responses={200: StatisticsSerializer, **_errors(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        study = selectors.public_study(slug=kwargs["slug"])
        return Response(public_statistics(study=study))


class FileRenderer(BaseRenderer):
    """Lets clients ask for a file type; the view returns the file's bytes itself."""

    media_type = "application/octet-stream"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ZipRenderer(FileRenderer):
    media_type = "application/zip"
    format = "zip"


class CsvRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XlsxRenderer(FileRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"


class FileView(ApiView):
    """A view answering with a file; its errors are JSON whatever the client accepted."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


def _file_response(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class OpenDataDownload(FileView):
    renderer_classes = [JSONRenderer, ZipRenderer]
    throttle_classes = [ApiClientThrottle, BulkDownloadThrottle]

    @extend_schema(
        tags=["open data"],
        summary="Bulk open-data download of a closed study (zip of CSV files)",
        parameters=[SLUG],
        description=(
            "studies.csv, sections.csv, contributions.csv, comments.csv and statistics.csv, "
            "with README.md and data-dictionary.csv. Only for closed or archived studies; "
            "an open study answers 409."
        ),
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The zip file."
            ),
            409: OpenApiResponse(ErrorSerializer, description="The study is still open."),
            **_errors(400, 401, 404, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        study = selectors.public_study(slug=kwargs["slug"])
        if study.status not in selectors.FINISHED_STATUSES:
            raise NotYetPublished(_("Open data is published once the study has closed."))
        archive = open_data_archive(study=study, request=request)
        response = _file_response(archive.content, "application/zip", f"{study.slug}-open-data.zip")
        response["Last-Modified"] = http_date(archive.last_modified.timestamp())
        return response


class ExportView(FileView):
    public = False
    permission_classes = [IsTokenHolder]
    renderer_classes = [JSONRenderer, CsvRenderer, XlsxRenderer]
    query_serializer_class = ExportQuery

    @extend_schema(
        tags=["exports"],
        summary="An export of one of your own studies (personal token required)",
        description=(
            "`aggregate`: the figures safe to publish. `pseudonymous`: a row per participant "
            "with a stable per-study pseudonym, organisation, sector, counts, first and last "
            "activity. The same files as on the study's export page. Needs "
            "`Authorization: Bearer <token>` of a coordinator of the study."
        ),
        parameters=[
            SLUG,
            OpenApiParameter(
                "tier", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(EXPORT_TIERS)
            ),
            ExportQuery,
        ],
        responses={
            (200, "application/json"): OpenApiResponse(ExportSerializer, description="JSON."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV."),
            (200, XlsxRenderer.media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX."
            ),
            403: OpenApiResponse(
                ErrorSerializer, description="The token's owner does not coordinate this study."
            ),
            **_errors(400, 401, 404, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        tier = kwargs["tier"]
        if tier not in EXPORT_TIERS:
            raise Http404
        access = selectors.study_for_token_holder(request=request, slug=kwargs["slug"])
        # file_format wins; otherwise the Accept header chooses (JSON by default).
        fmt = self.query.get("file_format") or {"csv": "csv", "xlsx": "xlsx"}.get(
            request.accepted_renderer.format, "json"
        )
        export = study_export(study=access.study, tier=tier, fmt=fmt)
        return _file_response(export.content, export.content_type, export.filename)


# --- Documentation page ---------------------------------------------------------


def documentation(request: HttpRequest) -> HttpResponse:
    """A readable page built from the OpenAPI schema; no scripts, no CDN."""
    schema = api_schema()
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "description_repeats_summary": operation.get("description", "")
                    .rstrip(".")
                    .strip()
                    == operation.get("summary", "").strip(),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                            "type": _schema_type(p.get("schema", {})),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": [
                        {"status": status, "description": r.get("description", "")}
                        for status, r in operation.get("responses", {}).items()
                    ],
                    "tag": (operation.get("tags") or [""])[0],
                }
            )
    response = render(
        request,
        "api/docs.html",
        {
            "operations": operations,
            "rates": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "may_hold_tokens": selectors.may_create_api_tokens(request=request),
            "schema_url": request.build_absolute_uri(reverse("api:schema")),
        },
    )
    return response


def _schema_type(schema: dict) -> str:
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    kind = schema.get("type", "")
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    return kind


_schema_cache = Memory("api.schema", 8)  # one per language


def api_schema() -> dict:
    """The OpenAPI document, generated once per process and language (labels are translated)."""
    language = get_language() or settings.LANGUAGE_CODE

    def generate() -> dict:
        from drf_spectacular.generators import SchemaGenerator

        return SchemaGenerator().get_schema(request=None, public=True)

    return _schema_cache.get_or_set(language, generate)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown addresses under /api/ answer in JSON too (after the usual slash redirect)."""
    from django.http import HttpResponsePermanentRedirect, JsonResponse
    from django.urls import Resolver404, resolve

    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(
        {"status": 404, "code": "not_found", "detail": _("Not found.")},
        status=404,
        headers={"Cache-Control": "no-store"},
    )
