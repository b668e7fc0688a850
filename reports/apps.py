from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from reports import services
        from studies.services import study_closed

        study_closed.connect(services.report_on_study_closed, dispatch_uid="reports.freeze")
