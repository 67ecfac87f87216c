from django import template

from museapp.feedback.models import DOWN_REASONS, UP_REASONS

register = template.Library()


@register.filter
def rating_of(message):
    """The answer's rating (its owner is the only one who can rate it),
    from the prefetched ratings: no query while rendering."""
    ratings = list(message.ratings.all())
    return ratings[0] if ratings else None


@register.filter
def picked_run_id(message):
    picks = list(message.draft_picks.all())
    return picks[0].run_id if picks else None


@register.simple_tag
def reason_choices(rating):
    return UP_REASONS if rating.is_up else DOWN_REASONS
