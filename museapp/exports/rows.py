"""A model's row as JSON and back. The exported fields are the model's own
concrete fields, less the keys the file nests or remaps: a field added to a
model is exported and imported with no second list to keep."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models


class ImportRefused(ValueError):
    """The file is not a Muse export this version can read; nothing was saved."""


def exported_fields(model: type[models.Model], *, without: tuple[str, ...] = ()) -> list[models.Field]:
    """The fields a row of ``model`` carries: its id first, then the other
    keys, then the rest, in the model's order."""
    fields = [field for field in model._meta.concrete_fields if field.name not in without]
    return sorted(fields, key=lambda field: (not field.primary_key, not field.is_relation))


def plain(value: object) -> object:
    """A field's value as JSON: times in ISO 8601, money as exact text."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_of(instance: models.Model, fields: list[models.Field]) -> dict:
    return {field.attname: plain(getattr(instance, field.attname)) for field in fields}


def instance_from(model: type[models.Model], row: object, fields: list[models.Field], **keys) -> models.Model:
    """An unsaved ``model`` from an exported row (its id and keys left to
    ``keys``), each value checked against its field; or ImportRefused."""
    if not isinstance(row, dict):
        raise ImportRefused(f"A {model._meta.verbose_name} is not an object.")
    values = {field.attname: checked(model, field, row.get(field.attname, field.get_default())) for field in fields
              if not field.primary_key and not field.is_relation}
    return model(**values, **keys)


def checked(model: type[models.Model], field: models.Field, value: object) -> object:
    """``value`` as ``field`` stores it, if its type, length and choices fit
    (blank text is taken as it comes: Muse itself saves some, a vote's model)."""
    try:
        value = None if value is None else field.to_python(value)
        if value is None and not field.null:
            raise ValidationError("missing")
        if value not in field.empty_values:
            field.run_validators(value)
            if field.choices:
                field.validate(value, None)
    except (ValidationError, TypeError, ValueError) as invalid:
        message = "; ".join(getattr(invalid, "messages", [str(invalid)]))
        raise ImportRefused(f"A {model._meta.verbose_name}'s {field.name} is not valid: {message}") from None
    return value
