"""A condition `column IN (values)` whose values travel as one JSON array parameter.

An IN list of bound parameters changes the SQL text with the number of values, so it cannot
be a `Prepared` statement. A JSON array keeps one parameter: SQLite expands it with
`json_each`, PostgreSQL with `jsonb_array_elements_text`, and both compare the elements as
text.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import BindParameter, Boolean, ColumnElement, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class InJsonList(ColumnElement[bool]):
    """`column IN (the elements of the JSON array bound as `name`)`."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.parameter: BindParameter[str] = bindparam(name, type_=String())


def json_list(values: list[str]) -> str:
    """Encode the values of an `InJsonList` parameter."""
    return msgspec.json.encode(values).decode()


@compiles(InJsonList, "sqlite")
def _compile_sqlite(element: InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(element.parameter, **kw)
    # Both parts are compiled SQL: a column name and a parameter placeholder.
    return f"{column} IN (SELECT value FROM json_each({parameter}))"  # noqa: S608


@compiles(InJsonList, "postgresql")
def _compile_postgresql(element: InJsonList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(element.parameter, **kw)
    return f"{column} IN (SELECT jsonb_array_elements_text(CAST({parameter} AS JSONB)))"
