from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(rate: Decimal | float | None, places: int = 1) -> str:
    """0.6667 → "66.7%"; empty for an item that does not apply."""
    if rate is None or rate == "":
        return "—"
    return f"{number_format(Decimal(rate) * 100, decimal_pos=places)}%"
