from django import template

from museapp.files.sniff import size_text

register = template.Library()


@register.filter
def file_size(size: int) -> str:
    return size_text(size or 0)
