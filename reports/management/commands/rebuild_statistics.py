"""manage.py rebuild_statistics [--study SLUG] [--check]

Recomputes the participation summaries (reports/summaries.py) from the items,
for one study or all; with --check, compares them with the items instead and
writes nothing: exit code 0 when they agree, 1 with the differences listed
when they do not (2 for an unknown study).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from reports import summaries
from studies.models import Study


class Command(BaseCommand):
    help = "Rebuild the participation summaries from the items, or --check them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--study", metavar="SLUG", help="only this study")
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with the items and report differences; write nothing (exit 1 if any)",
        )

    def handle(self, *args, study: str | None = None, check: bool = False, **options) -> None:
        study_id = None
        scope = "all studies"
        if study is not None:
            found = Study.objects.filter(slug=study).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No study with the address {study!r}.", returncode=2)
            study_id, scope = found, f"study {study}"
        started = time.monotonic()
        if check:
            found_differences = summaries.differences(study_id=study_id, limit=0)
            seconds = time.monotonic() - started
            if not found_differences:
                self.stdout.write(f"Statistics of {scope}: no differences ({seconds:.1f} s).")
                return
            for line in found_differences[:100]:
                self.stdout.write(line)
            if len(found_differences) > 100:
                self.stdout.write(f"… and {len(found_differences) - 100} more")
            raise CommandError(
                f"Statistics of {scope}: {len(found_differences)} differences from the items; "
                "run rebuild_statistics without --check to repair them.",
                returncode=1,
            )
        if study_id is None:
            summaries.ensure_triggers()
        groups, days = summaries.rebuild(study_id=study_id)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Statistics of {scope} rebuilt from the items: {groups} participant groups, "
            f"{days} days ({seconds:.1f} s)."
        )
