from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    name = "contributions"

    def ready(self) -> None:
        from contributions import services
        from studies.services import document_version_published

        document_version_published.connect(
            services.contributions_taken_up, dispatch_uid="contributions_taken_up"
        )
