"""Name the site Dugnad: allauth greets and signs its e-mails with the site's name."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations


def name_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    domain = urlsplit(settings.SITE_URL).netloc or "127.0.0.1:8000"
    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"name": "Dugnad", "domain": domain}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_notifications_digests_data_exports"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_site, migrations.RunPython.noop)]
