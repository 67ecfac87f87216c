from django.contrib import admin

from museapp.agents.models import AgentRun, Comparison, Contemplation


class AgentRunInline(admin.TabularInline):
    model = AgentRun
    fields = ["kind", "index", "role", "model", "temperature", "status", "completion_tokens", "cost", "total_ms"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Contemplation)
class ContemplationAdmin(admin.ModelAdmin):
    list_display = ["message", "strategy", "strategy_used", "agent_count", "agreement", "status", "wall_ms"]
    list_filter = ["strategy", "strategy_used", "agent_count", "status", "message__ratings__value"]
    search_fields = ["message__content", "merge_note"]
    raw_id_fields = ["message"]
    inlines = [AgentRunInline]


@admin.register(AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    list_display = ["contemplation", "kind", "index", "role", "model", "status", "completion_tokens", "total_ms"]
    list_filter = ["kind", "status", "role", "contemplation__strategy"]
    search_fields = ["text", "role", "model"]
    raw_id_fields = ["contemplation"]


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["contemplation", "contemplated_position", "choice", "strategy", "agent_count", "agreement",
                    "chosen_at"]
    list_filter = ["choice", "strategy", "agent_count"]
    raw_id_fields = ["contemplation", "quick_run"]
