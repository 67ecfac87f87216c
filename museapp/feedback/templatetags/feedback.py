from django import template

from museapp.feedback.models import DOWN_REASONS, UP_REASONS, Rating

register = template.Library()


@register.filter
def rating_of(message):
    """The answer's rating (its owner is the only one who can rate it),
    from the prefetched ratings: no query while rendering."""
    ratings = list(message.ratings.all())
    return ratings[0] if ratings else None


@register.filter
def rateable(message) -> bool:
    """The answer shows thumbs (museapp/feedback/services.py checks the same)."""
    return message.status in Rating.RATEABLE


@register.filter
def picked_run_id(message):
    picks = list(message.draft_picks.all())
    return picks[0].run_id if picks else None


@register.simple_tag
def reason_choices(rating):
    return UP_REASONS if rating.is_up else DOWN_REASONS


@register.filter
def compared_answers(message) -> list[dict]:
    """The two answers of a blind comparison in their drawn order:
    [{"position": 1, "text": ...}, {"position": 2, "text": ...}]."""
    comparison = message.contemplation.comparison
    texts = {comparison.contemplated_position: message.content, comparison.quick_position: comparison.quick_run.text}
    return [{"position": position, "text": texts[position]} for position in (1, 2)]


@register.filter
def comparison_verdict(comparison) -> str:
    """What the person said, in their words."""
    if comparison.choice == comparison.Choice.SKIPPED:
        return "You skipped this comparison."
    if comparison.choice == comparison.Choice.SAME:
        return "You found the two answers about the same."
    position = comparison.contemplated_position if comparison.choice == comparison.Choice.CONTEMPLATED \
        else comparison.quick_position
    return f"You preferred Answer {position}."
