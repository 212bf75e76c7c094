"""Inserting many rows of one model cheaply, for the hot write paths (storing a received page, the audit log).

`QuerySet.bulk_create` compiles every field of every row through the SQL compiler: for a page of a few hundred
versions that is most of the time spent storing it. `insert` writes the same rows with one prepared multi-row
`INSERT ... RETURNING` per batch, converting values with each field's own `get_db_prep_save` (or with nothing
for the text, number and boolean fields, whose values the drivers take as they are), and sets the primary keys
on the instances as `bulk_create` does. Model defaults are applied by the instances' constructors, as always;
`save()` logic, signals and `auto_now` fields are not run, as with `bulk_create`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.core.exceptions import MultipleObjectsReturned
from django.db import connection, models

Convert = Callable[[Any], Any]

# The most parameters one statement binds (PostgreSQL's wire protocol counts them in 16 bits).
MAX_PARAMS = 65_535

# Fields whose Python value (str, int, bool or None) is what both drivers bind.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
)


def _converter(field: models.Field[Any, Any]) -> Convert | None:
    """How to turn the attribute into the bound parameter; None when it binds as it is."""
    if isinstance(field, models.ForeignKey):
        return None  # the attname holds the related row's integer key
    if isinstance(field, models.UUIDField):
        native = connection.features.has_native_uuid_field

        def convert_uuid(value: Any) -> Any:
            if isinstance(value, uuid.UUID):
                return value if native else value.hex
            return field.get_db_prep_save(value, connection)  # None, or text the field parses (or refuses)

        return convert_uuid
    if isinstance(field, _PLAIN):
        return None
    if isinstance(field, models.DateTimeField):
        return _datetime_converter(field)
    if isinstance(field, models.FloatField):
        return lambda value: (
            value if type(value) is float or value is None else field.get_db_prep_save(value, connection)
        )
    return lambda value: field.get_db_prep_save(value, connection)


def _datetime_converter(field: models.DateTimeField[Any, Any]) -> Convert:
    """An aware datetime as the backend's own adapter binds it (PostgreSQL: as it is; SQLite: the text of the naive
    time in the connection's time zone), without the field's checks; anything else through the field."""
    vendor = connection.vendor
    zone = connection.timezone

    def convert(value: Any) -> Any:
        if type(value) is not datetime or value.tzinfo is None or zone is None:
            return field.get_db_prep_save(value, connection)
        if vendor == "postgresql":
            return value
        if vendor == "sqlite":
            return str(value.astimezone(zone).replace(tzinfo=None))
        return field.get_db_prep_save(value, connection)

    return convert


@cache
def _plan(model: type[models.Model], vendor: str) -> tuple[list[str], list[Convert | None], str, str]:
    """The columns to insert (every concrete field but an auto primary key), their converters, and SQL parts."""
    del vendor  # part of the cache key: the converters depend on the backend
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    quote = connection.ops.quote_name
    # Names from the model, quoted; values are always bound parameters.
    columns = ", ".join(quote(f.column) for f in fields)
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
    returning = f" RETURNING {quote(meta.pk.column)}"
    return [f.attname for f in fields], [_converter(f) for f in fields], head, returning


def insert(objs: Sequence[models.Model]) -> None:
    """INSERT instances of one model, setting their primary keys (and `_state.adding = False`)."""
    if not objs:
        return
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs)
        return
    names, converters, head, returning = _plan(model, connection.vendor)
    width = len(names)
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    # The backend's own limit (999 parameters a statement on SQLite), and PostgreSQL's 65,535 parameters.
    batch = max(
        1, min(connection.ops.bulk_batch_size(list(model._meta.concrete_fields), list(objs)), MAX_PARAMS // width)
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params: list[Any] = []
            for obj in chunk:
                for name, convert in zip(names, converters, strict=True):
                    value = getattr(obj, name)
                    params.append(value if convert is None else convert(value))
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + returning, params)
            ids = [row[0] for row in cursor.fetchall()]
            for obj, pk in zip(chunk, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


@cache
def _select(model: type[models.Model], vendor: str, attname: str) -> tuple[list[str], Convert | None, str]:
    """SELECT of every concrete column by one column."""
    del vendor  # part of the cache key, as in _plan
    meta = model._meta
    field = next(f for f in meta.concrete_fields if f.attname == attname)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(field.column)} = %s LIMIT 2"  # noqa: S608
    return [f.attname for f in meta.concrete_fields], _converter(field), sql


M = TypeVar("M", bound=models.Model)


def one(model: type[M], attname: str, value: Any) -> M | None:
    """The instance whose `attname` (a unique column) equals `value`, read with one prepared statement and built as
    the ORM builds it (its values converted by the same converters, then `Model.from_db`); None if there is none."""
    names, convert, sql = _select(model, connection.vendor, attname)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value if convert is None else convert(value)])
        found = cursor.fetchall()
    if len(found) > 1:
        raise MultipleObjectsReturned(f"{model.__name__}.{attname} = {value!r} is not unique")
    if not found:
        return None
    values = []
    for raw, field in zip(found[0], model._meta.concrete_fields, strict=True):
        column = field.get_col(model._meta.db_table)
        value_read = raw
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value_read = converter(value_read, column, connection)
        values.append(value_read)
    return model.from_db(connection.alias, names, values)
