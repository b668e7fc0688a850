"""Compile every django.po into django.mo with polib: no GNU gettext needed."""

import sys
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogue_dirs() -> list[Path]:
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    dirs += [Path(app.path) / "locale" for app in apps.get_app_configs()]
    base, installed = Path(settings.BASE_DIR).resolve(), Path(sys.prefix).resolve()
    return [
        d
        for d in dirs
        if d.is_dir()
        and d.resolve().is_relative_to(base)
        and not d.resolve().is_relative_to(installed)
    ]


class Command(BaseCommand):
    help = "Compile the project's translation catalogues (.po to .mo)."

    def handle(self, *args, **options) -> None:
        compiled = 0
        for directory in catalogue_dirs():
            for po_path in directory.glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation catalogue(s).")
