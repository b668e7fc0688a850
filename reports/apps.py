from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.translation import gettext_lazy as _

        from polls.extensions import survey_results_register
        from reports import services, summaries
        from studies.extensions import StudyLink, study_link_register
        from studies.services import study_closed

        for link in (
            StudyLink("statistics", _("Participation statistics"), "reports:statistics"),
            StudyLink(
                "report",
                _("Read its participation report"),
                "reports:report",
                "closed",
                closed_only=True,
            ),
            StudyLink(
                "report-card", _("Participation report"), "reports:report", "card", closed_only=True
            ),
            StudyLink("staff-statistics", _("Statistics"), "reports:statistics", "staff", order=40),
            StudyLink(
                "exports", _("Exports"), "reports:exports", "staff", ("coordinator",), order=50
            ),
            StudyLink(
                "staff-report",
                _("Participation report"),
                "reports:report",
                "staff",
                closed_only=True,
                order=60,
            ),
        ):
            study_link_register(link)

        survey_results_register("reports:survey_results")
        study_closed.connect(services.report_on_study_closed, dispatch_uid="reports.freeze")
        # SQLite re-makes a table that a migration alters, dropping its
        # triggers: put back any missing one after every migrate.
        post_migrate.connect(
            summaries.ensure_triggers, sender=self, dispatch_uid="reports.triggers"
        )
