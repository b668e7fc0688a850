"""Make the first platform administrator (or another): ``manage.py createadmin EMAIL``.

Later administrators are made by an administrator on the administrators page;
this command is for the first, on a new installation, and for a lost one.
"""

from __future__ import annotations

import getpass
import sys

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Make the person with this e-mail address a platform administrator, creating "
        "the account (with a verified address) if there is none."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="the administrator's e-mail address")
        parser.add_argument("--name", default="", help="the name to show (for a new account)")
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="do not ask for a password; a new account then sets one by 'Forgot password'",
        )

    def handle(self, *args, email: str, name: str, no_input: bool, **options) -> None:
        email = email.strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not an e-mail address.") from exc
        person = User.objects.filter(email__iexact=email, deleted_at__isnull=True).first()
        password = None
        if person is None and not no_input and sys.stdin.isatty():
            password = self._ask_password(email)
        with transaction.atomic():
            created = person is None
            if created:
                person = User(email=email.lower(), display_name=name.strip()[:80])
                if password:
                    person.set_password(password)
                else:
                    person.set_unusable_password()
                person.save()
            elif person.is_administrator:
                self.stdout.write(f"{person.email} is already an administrator; nothing changed.")
                self._next_steps(person, created=False)
                return
            elif name.strip() and not person.display_name:
                person.display_name = name.strip()[:80]
            person.is_administrator = True
            person.is_active = True
            person.save()
            # The address is the one given on this machine: it counts as verified.
            EmailAddress.objects.update_or_create(
                user=person,
                email__iexact=person.email,
                defaults={"email": person.email, "verified": True, "primary": True},
            )
        verb = "Created" if created else "Promoted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {person.email} as platform administrator."))
        self._next_steps(person, created=created, has_password=person.has_usable_password())

    def _ask_password(self, email: str) -> str | None:
        for _attempt in range(3):
            first = getpass.getpass(f"Password for {email} (empty: set it later): ")
            if not first:
                return None
            if getpass.getpass("The same password again: ") != first:
                self.stderr.write("The passwords differ; try again.")
                continue
            try:
                validate_password(first, User(email=email))
            except ValidationError as exc:
                self.stderr.write(" ".join(exc.messages))
                continue
            return first
        raise CommandError("No password set; run the command again.")

    def _next_steps(self, person: User, *, created: bool, has_password: bool = True) -> None:
        site = settings.SITE_URL
        lines = ["", "What to do next:"]
        if not has_password:
            lines.append(
                f"  1. Set a password at {site}{reverse('account_reset_password')} "
                f"(or sign in with a code sent to {person.email})."
            )
        else:
            lines.append(f"  1. Sign in at {site}{reverse('account_login')} as {person.email}.")
        lines += [
            f"  2. Set up two-factor authentication at {site}{reverse('mfa_activate_totp')}:"
            " administrator pages need it.",
            f"  3. Open {site}{reverse('administration')} to create a study and appoint its"
            " coordinator, run the organisation registry and add other administrators.",
        ]
        if created and not person.display_name:
            lines.append("  Give yourself a name to show on your profile page.")
        self.stdout.write("\n".join(lines))
