from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.utils import filter_users_by_email
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Delivery, NotificationKind, Organisation, User
from accounts.validators import normalise_org_number


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("The language of the e-mails and notifications we send you."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["language"] = self.instance.preferred_language

    class Meta:
        model = User
        fields = ["display_name", "language", "digest_frequency"]
        help_texts = {"display_name": _("Shown beside everything you post. At most 80 characters.")}

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please give a display name."))
        return name


class OrganisationForm(forms.ModelForm):
    """Propose an organisation that is not in the registry yet."""

    # Wider than the model field so "974 760 673" reaches the normalising clean.
    org_number = forms.CharField(
        label=_("Organisation number"),
        required=False,
        max_length=20,
        help_text=_("Nine digits, if the organisation has one."),
    )
    website = forms.URLField(
        label=_("Website"), required=False, max_length=300, assume_scheme="https"
    )

    class Meta:
        model = Organisation
        fields = ["name", "org_number", "sector", "website"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Please give the organisation's name."))
        return name

    def clean_org_number(self) -> str | None:
        value = normalise_org_number(self.cleaned_data.get("org_number") or "")
        return value or None


class AffiliationForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.canonical(),
        label=_("Organisation"),
        error_messages={"invalid_choice": _("Choose an organisation from the list.")},
    )


class AddEmailForm(AllauthAddEmailForm):
    """Changing to an address another account already uses gets a clear error.

    A signed-in person learns that the address is taken, which the sign-up
    and password reset pages never reveal; rate limits still apply.
    """

    def clean_email(self) -> str:
        value = get_adapter().clean_email(self.cleaned_data["email"].lower())
        if any(u.pk != self.user.pk for u in filter_users_by_email(value)):
            raise forms.ValidationError(
                _(
                    "Another account already uses this e-mail address. "
                    "Choose a different address, or sign in to that account instead."
                ),
                code="email_taken",
            )
        return super().clean_email()


class NotificationSettingsForm(forms.Form):
    """One choice per kind of notification: e-mail at once, in the digest, or only in Dugnad."""

    def __init__(self, *args, current: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=Delivery.choices,
                initial=current.get(kind, Delivery.INSTANT),
                widget=forms.RadioSelect,
            )


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account is deleted for good"),
        error_messages={
            "required": _("Tick the box to confirm that you want to delete your account.")
        },
    )
