"""The administrators page: who runs the platform, adding and removing them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import administrators as admins


class AdministratorAddForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address of the new administrator"),
        help_text=gettext_lazy(
            "The person must already have an account. They will need two-factor "
            "authentication to open the administrator pages."
        ),
        error_messages={
            "required": gettext_lazy("Give the e-mail address of the person to add."),
            "invalid": gettext_lazy("This is not an e-mail address."),
        },
    )


def _page(request: HttpRequest, form: AdministratorAddForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "accounts/administrators.html",
        {"administrators": list(admins.administrators()), "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def administrator_list(request: HttpRequest) -> HttpResponse:
    """The administrators, and a form to add one by the address of their account."""
    admins.require_administrator(request)
    if request.method != "POST":
        return _page(request, AdministratorAddForm())
    form = AdministratorAddForm(request.POST)
    if form.is_valid():
        try:
            person = admins.administrator_add(email=form.cleaned_data["email"], by=request.user)
        except ValidationError as exc:
            form.add_error("email", exc.messages)
        else:
            messages.success(
                request, _("%(name)s is now an administrator.") % {"name": person.public_name}
            )
            return redirect("administrators")
    return _page(request, form, status=400)


@login_required
@require_POST
def administrator_remove(request: HttpRequest, pk: int) -> HttpResponse:
    admins.require_administrator(request)
    person = get_object_or_404(admins.administrators(), pk=pk)
    try:
        admins.administrator_remove(person=person, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(name)s is no longer an administrator.") % {"name": person.public_name},
        )
    return redirect("administrators")
