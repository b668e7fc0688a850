from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from accounts.models import (
    Affiliation,
    DataExport,
    DigestRun,
    Notification,
    NotificationSetting,
    Organisation,
    OrganisationDomain,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "is_administrator",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "display_name"]}),
        # is_administrator is Dugnad's platform role (made on the administrators page);
        # is_staff and is_superuser open this admin, for developers.
        (
            "Permissions",
            {"fields": ["is_active", "is_administrator", "is_staff", "is_superuser", "groups"]},
        ),
        ("Preferences", {"fields": ["language", "digest_frequency"]}),
        ("Dates", {"fields": ["last_login", "date_joined", "deleted_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class OrganisationDomainInline(admin.TabularInline):
    """E-mail domains (also on the registry page). Adding one here confirms no claim
    by itself: the registry page's form does (accounts.services.organisation_domain_add)."""

    model = OrganisationDomain
    extra = 0
    raw_id_fields = ["added_by"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    inlines = [OrganisationDomainInline]
    list_display = ["name", "org_number", "sector", "verified", "merged_into"]
    list_filter = ["sector", "verified"]
    search_fields = ["name", "org_number"]
    raw_id_fields = ["created_by"]
    # Merges go through the registry (/reports/organisations/), which refuses
    # loops and chains and logs them; here they can only be read.
    readonly_fields = ["merged_into"]
    # A website typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    """Claims; decide them on /me/organisations/claims/, where the items follow."""

    list_display = ["user", "organisation", "state", "decided_how", "is_representative", "ended_at"]
    list_filter = ["state", "decided_how", "is_representative"]
    raw_id_fields = ["user", "organisation", "decided_by"]
    readonly_fields = ["state", "decided_how", "decided_by", "decided_at", "decision_note"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "delivery", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", "delivery"]
    raw_id_fields = ["user", "digest_run"]


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    list_display = ["user", "frequency", "period_start", "claimed_at", "sent_at", "item_count"]
    list_filter = ["frequency"]
    raw_id_fields = ["user"]


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    # The archive itself is the person's alone: staff see only that it exists.
    list_display = ["user", "status", "requested_at", "finished_at"]
    fields = ["user", "status", "requested_at", "finished_at"]
    readonly_fields = fields


admin.site.register(NotificationSetting)
