from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"

    def ready(self) -> None:
        from studies import account_checks, structure

        account_checks.connect()
        structure.connect()
