from django.contrib import admin

from studies.models import (
    DocumentVersion,
    Invitation,
    JoinRequest,
    Membership,
    Phase,
    Section,
    Study,
)


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user", "organisation"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "visibility", "joining", "opens_at", "closes_at"]
    list_filter = ["status", "visibility", "joining"]
    search_fields = ["title", "slug"]
    inlines = [SectionInline, MembershipInline]
    readonly_fields = ["last_event_seq", "created_at", "updated_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "role", "organisation", "status", "consent_named"]
    list_filter = ["role", "status"]
    search_fields = ["user__email", "user__display_name", "study__title"]
    raw_id_fields = ["user", "organisation", "study"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "study", "created_at", "expires_at", "accepted_at"]
    search_fields = ["email", "study__title"]
    exclude = ["token"]
    raw_id_fields = ["study", "invited_by", "accepted_by"]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["user", "study", "organisation", "decided_by"]


admin.site.register(Phase)
admin.site.register(DocumentVersion)
