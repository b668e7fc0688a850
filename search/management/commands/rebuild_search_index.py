"""Write every search document again (after loaddata or a bulk change made in SQL)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from search import indexing
from studies.models import Study


class Command(BaseCommand):
    help = "Index every contribution, comment and document version again."

    def add_arguments(self, parser):
        parser.add_argument("--study", help="only the study with this slug")

    def handle(self, *args, study=None, **options):
        study_id = None
        if study:
            study_id = Study.objects.filter(slug=study).values_list("pk", flat=True).first()
            if study_id is None:
                raise CommandError(f"No study with the slug {study!r}.")
        with transaction.atomic():
            count = indexing.rebuild(study_id=study_id)
        self.stdout.write(f"Indexed {count} item(s).")
