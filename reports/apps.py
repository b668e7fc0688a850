from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.translation import gettext_lazy as _

        from reports import services, summaries
        from studies.extensions import HeaderLink, header_link_register
        from studies.services import study_closed

        header_link_register(
            HeaderLink("statistics", _("Participation statistics"), "reports:statistics")
        )
        header_link_register(
            HeaderLink("report", _("Read its participation report"), "reports:report", "closed")
        )

        study_closed.connect(services.report_on_study_closed, dispatch_uid="reports.freeze")
        # SQLite re-makes a table that a migration alters, dropping its
        # triggers: put back any missing one after every migrate.
        post_migrate.connect(
            summaries.ensure_triggers, sender=self, dispatch_uid="reports.triggers"
        )
