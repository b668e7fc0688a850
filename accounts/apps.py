from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed
        from allauth.mfa.signals import authenticator_added

        from accounts import names, receivers

        authenticator_added.connect(receivers.mfa_added, dispatch_uid="accounts.mfa_added")
        email_confirmed.connect(
            receivers.email_address_confirmed, dispatch_uid="accounts.email_confirmed"
        )
        names.connect()
