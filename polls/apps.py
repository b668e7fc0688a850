from django.apps import AppConfig


class PollsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "polls"
    verbose_name = "Polls and surveys"

    def ready(self) -> None:
        from contributions.extensions import study_page_panel_register
        from polls.templatetags.poll_tags import study_has_polls

        # A study without polls or surveys (at its event number) shows every viewer of
        # a class the same empty section, kept in the page's shell; with them, the
        # polls are rendered per request (they open and close by the clock, and show
        # the person's own votes).
        study_page_panel_register(
            "main", "polls/_study_page_no_polls.html", scripts=["js/polls.js"], per_class=True
        )
        study_page_panel_register(
            "main",
            "polls/_study_page_polls.html",
            when=lambda access, _user: study_has_polls(access),
        )
