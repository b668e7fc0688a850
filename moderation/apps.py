from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.selectors import personal_data_section_register
        from accounts.signals import account_deleted
        from contributions.controls import item_tools_register
        from contributions.extensions import study_page_panel_register
        from moderation import item_tools, selectors, services
        from studies.extensions import StudyLink, study_link_register

        account_deleted.connect(
            services.flag_notes_clear_for_deleted_account, dispatch_uid="moderation.flag_notes"
        )
        personal_data_section_register("flags", selectors.personal_data_flags)
        item_tools_register(item_tools.item_tools)
        study_page_panel_register(
            "aside", "moderation/_blocked_panel.html", when=lambda access, _user: access.is_blocked
        )
        study_page_panel_register("aside", "moderation/_study_page_tools.html", per_class=True)
        study_link_register(
            StudyLink("moderation", _("Moderation"), "moderation:queue", "staff", order=20)
        )
        study_link_register(
            StudyLink(
                "moderation-members",
                _("Members"),
                "moderation:members",
                "staff",
                ("facilitator",),
                order=30,
            )
        )
