from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    name = "contributions"

    def ready(self) -> None:
        from accounts.selectors import personal_data_section_register
        from accounts.signals import account_deleted, claim_decided
        from contributions import names, passages, selectors, services
        from studies.extensions import TakenUp, taken_up_register
        from studies.services import document_version_published

        names.connect()
        account_deleted.connect(
            services.items_forget_deleted_author, dispatch_uid="contributions_forget_author"
        )
        claim_decided.connect(services.items_follow_claim, dispatch_uid="contributions_claim")
        document_version_published.connect(
            services.contributions_taken_up, dispatch_uid="contributions_taken_up"
        )
        document_version_published.connect(
            passages.passages_carry, dispatch_uid="contributions_passages_carry"
        )
        taken_up_register(
            TakenUp(choices=selectors.taken_up_choices, of_version=selectors.taken_up_in_version)
        )
        personal_data_section_register("contributions", selectors.personal_data_contributions)
        personal_data_section_register("comments", selectors.personal_data_comments)
        personal_data_section_register("reactions", selectors.personal_data_reactions)
