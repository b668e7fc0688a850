"""The API's bokmål catalogue is complete and valid."""

from pathlib import Path

import polib
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "api" / "locale" / "nb" / "LC_MESSAGES" / "django.po"


def test_every_api_string_has_a_bokmal_translation():
    po = polib.pofile(str(CATALOGUE))
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert po.percent_translated() == 100
    assert not po.fuzzy_entries()


def test_placeholders_survive_translation():
    import re

    for entry in polib.pofile(str(CATALOGUE)):
        found = sorted(re.findall(r"%\(\w+\)[sd]", entry.msgid))
        assert sorted(re.findall(r"%\(\w+\)[sd]", entry.msgstr)) == found, entry.msgid
