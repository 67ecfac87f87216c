from django import template

register = template.Library()


def _number(value) -> float | None:
    """A figure, or None where a report has none (a missing key renders as "")."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def points(value) -> str:
    """A difference in accuracy as signed percentage points: "+25.0"."""
    number = _number(value)
    return "" if number is None else f"{number * 100:+.1f}"


@register.filter
def seconds(value) -> str:
    number = _number(value)
    return "" if number is None else f"{number:.2f} s"


@register.filter
def decimals(value, digits: int = 0) -> str:
    number = _number(value)
    return "" if number is None else f"{number:,.{int(digits)}f}"
