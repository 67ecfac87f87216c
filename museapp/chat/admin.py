from django.contrib import admin

from museapp.chat.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["author", "status", "model", "content"]
    extra = 0
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["display_title", "user", "model", "contemplate", "updated_at"]
    list_filter = ["contemplate", "merge_strategy"]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "author", "status", "model", "completion_tokens", "cost", "total_ms"]
    list_filter = [
        "author",
        "status",
        ("contemplation", admin.EmptyFieldListFilter),  # quick (empty) or contemplated
        "contemplation__strategy",
        "ratings__value",
    ]
    search_fields = ["content", "conversation__title", "conversation__user__username"]
    raw_id_fields = ["conversation"]
