"""Inserting many rows that differ in a few columns only.

`bulk_create` prepares every field of every row in Python, which is most of the cost of creating tens of
thousands of rows. On PostgreSQL, `insert_many` prepares the shared fields once and sends the differing
ones as arrays: `INSERT ... SELECT ... FROM unnest(...)`, one statement per chunk. It is a plain INSERT,
so constraints, triggers and row-level security apply as usual (COPY would not work under RLS)."""

from django.db import connection, models


def insert_many(model: type[models.Model], template: models.Model, varying: dict[str, list], chunk: int = 20_000):
    """Insert one row per position of the `varying` lists (field name → values, all of one length), each
    row otherwise equal to `template` (an unsaved instance whose defaults fill the other fields)."""
    count = len(next(iter(varying.values()), []))
    if connection.vendor != "postgresql":
        rows = []
        for position in range(count):
            row = model(**{f.attname: getattr(template, f.attname) for f in model._meta.concrete_fields})
            for name, values in varying.items():
                setattr(row, model._meta.get_field(name).attname, values[position])
            rows.append(row)
        model.objects.bulk_create(rows, batch_size=2000)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_name = {model._meta.get_field(name).attname: name for name in varying}
    quote = connection.ops.quote_name
    columns, selected, constants = [], [], []
    for field in fields:
        columns.append(quote(field.column))
        if field.attname in by_name:
            selected.append(f"t.{quote(field.column)}")
        else:
            selected.append(f"%s::{field.db_type(connection)}")  # typed, so a NULL fits its column
            constants.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    varying_fields = [f for f in fields if f.attname in by_name]
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in varying_fields)
    names = ", ".join(quote(f.column) for f in varying_fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM unnest({arrays}) AS t({names})"
    )
    with connection.cursor() as cursor:
        for start in range(0, count, chunk):
            arrays_values = [
                [f.get_db_prep_save(v, connection) for v in varying[by_name[f.attname]][start : start + chunk]]
                for f in varying_fields
            ]
            cursor.execute(sql, [*constants, *arrays_values])
