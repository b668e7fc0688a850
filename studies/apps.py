from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"

    def ready(self) -> None:
        from accounts.selectors import personal_data_section_register
        from studies import account_checks, selectors, structure

        account_checks.connect()
        structure.connect()
        personal_data_section_register("memberships", selectors.personal_data_memberships)
