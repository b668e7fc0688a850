"""The name to show: asked at sign-up and of anyone who has none before they take part.

Its own module, without allauth: allauth imports ACCOUNT_SIGNUP_FORM_CLASS
while building its own forms, which accounts.forms imports.
"""

from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    """The fields allauth's sign-up adds to its own: the name to show (ACCOUNT_SIGNUP_FORM_CLASS).

    Everything a person posts is shown with this name, never with their
    e-mail address or a part of it.
    """

    display_name = forms.CharField(
        label=_("Name to show"),
        max_length=80,
        help_text=_(
            "Shown beside everything you post, e.g. your full name. Your e-mail address "
            "is never shown. At most 80 characters."
        ),
        error_messages={"required": _("Please give the name to show beside what you post.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError(_("Please give the name to show beside what you post."))
        return name

    def signup(self, request, user) -> None:
        user.display_name = self.cleaned_data["display_name"]
        user.save(update_fields=["display_name"])


class PublicNameForm(forms.Form):
    """A person without a name to show (e.g. after single sign-on) chooses one."""

    display_name = SignupForm.base_fields["display_name"]
    clean_display_name = SignupForm.clean_display_name
