from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.selectors import personal_data_section_register
        from studies import account_checks, selectors, structure
        from studies.extensions import StudyLink, study_link_register

        account_checks.connect()
        structure.connect()
        personal_data_section_register("memberships", selectors.personal_data_memberships)
        for link in (
            StudyLink(
                "settings",
                _("Manage the study"),
                "studies:settings",
                "staff",
                ("coordinator",),
                order=10,
            ),
            StudyLink(
                "members",
                _("Members and roles"),
                "studies:members",
                "staff",
                ("coordinator",),
                order=30,
            ),
        ):
            study_link_register(link)
