from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # Every registered source's model is indexed on save and delete.
        from search import indexing

        indexing.connect_receivers()
