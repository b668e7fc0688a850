from django.contrib import admin

from moderation.models import FacilitatorNote, Flag, ModerationDigest, ModerationLog


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "reason", "status", "created_at", "handled_at"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["study", "user", "contribution", "comment", "handled_by"]


@admin.register(FacilitatorNote)
class FacilitatorNoteAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "author", "created_at"]
    raw_id_fields = ["study", "author", "contribution", "comment"]


@admin.register(ModerationDigest)
class ModerationDigestAdmin(admin.ModelAdmin):
    list_display = ["study", "window_end", "flag_count", "pending_count", "recipients"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, in the admin as everywhere."""

    list_display = ["created_at", "study", "actor", "action", "target_type", "target_id", "reason"]
    list_filter = ["action"]
    search_fields = ["reason", "study__slug"]
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
