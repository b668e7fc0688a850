from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from accounts import names, receivers

        authenticator_added.connect(receivers.mfa_added, dispatch_uid="accounts.mfa_added")
        names.connect()
