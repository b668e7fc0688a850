from django.apps import AppConfig


class PollsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "polls"
    verbose_name = "Polls and surveys"

    def ready(self) -> None:
        from contributions.extensions import study_page_panel_register

        study_page_panel_register("main", "polls/_study_page_polls.html", scripts=["js/polls.js"])
