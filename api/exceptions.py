"""Every API error is JSON: a status, a stable code, a readable message.

Shape: {"status": 400, "code": "invalid_query", "detail": "…", "errors": {…}}.
`errors` appears for invalid input only, keyed by the query parameter.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class InvalidQuery(exceptions.ValidationError):
    default_code = "invalid_query"


class NotYetPublished(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_closed"


def _messages(detail) -> object:
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(value) for value in detail]
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


def api_exception_handler(exc, context):
    from studies.access import MFARequired

    if isinstance(exc, MFARequired):
        exc = exceptions.PermissionDenied(
            _("The token's owner must set up two-factor authentication first."),
            code="mfa_required",
        )
    elif isinstance(exc, SuspiciousOperation):
        # E.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
        exc = exceptions.ParseError(_("The request is not valid."), code="bad_request")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("You may not read this."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body: dict = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = getattr(exc, "default_code", "invalid")
        if isinstance(exc, InvalidQuery):
            body["code"] = "invalid_query"
        body["detail"] = _("The request is not valid; see errors.")
        errors = _messages(exc.detail)
        body["errors"] = errors if isinstance(errors, dict) else {"non_field_errors": errors}
    else:
        body["code"] = _code(exc)
        body["detail"] = (
            str(exc.detail)
            if not isinstance(exc.detail, dict | list)
            else (_("The request could not be answered."))
        )
    response.data = body
    response["Cache-Control"] = "no-store"
    return response
