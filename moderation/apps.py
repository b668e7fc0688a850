from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"

    def ready(self) -> None:
        from accounts.signals import account_deleted
        from moderation import dbguard, services

        dbguard.install()
        account_deleted.connect(
            services.flag_notes_clear_for_deleted_account, dispatch_uid="moderation.flag_notes"
        )
