"""Read-mostly admin for staff: items change state through moderation, never here."""

from django.contrib import admin

from contributions.models import Attachment, Comment, Contribution, Reaction, Revision


@admin.register(Contribution)
class ContributionAdmin(admin.ModelAdmin):
    list_display = ["title", "study", "author", "state", "acted_for", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["title", "body"]
    list_select_related = ["study", "author", "acted_for"]
    raw_id_fields = ["study", "author", "acted_for", "section"]
    readonly_fields = ["acted_for", "acted_for_sector", "revision", "idempotency_key", "body_html"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "contribution", "author", "state", "official", "created_at"]
    list_filter = ["state", "official"]
    search_fields = ["body"]
    list_select_related = ["contribution", "author"]
    raw_id_fields = ["study", "author", "acted_for", "contribution", "parent"]
    readonly_fields = ["acted_for", "acted_for_sector", "revision", "idempotency_key", "body_html"]


admin.site.register(Revision, raw_id_fields=["contribution", "comment"])
admin.site.register(Reaction, raw_id_fields=["user", "contribution", "comment"])
admin.site.register(Attachment, raw_id_fields=["contribution"])
