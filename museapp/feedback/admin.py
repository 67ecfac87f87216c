from django.contrib import admin

from museapp.feedback.models import BestDraftPick, Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["message", "user", "value", "reasons", "created_at"]
    list_filter = ["value", "message__contemplation__strategy", "created_at"]
    search_fields = ["comment", "message__content", "user__username"]
    raw_id_fields = ["message", "user"]


@admin.register(BestDraftPick)
class BestDraftPickAdmin(admin.ModelAdmin):
    list_display = ["message", "run", "user", "created_at"]
    search_fields = ["user__username", "run__role"]
    raw_id_fields = ["message", "run", "user"]
