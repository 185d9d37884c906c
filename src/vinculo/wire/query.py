"""Query-string conventions: pagination, `fields`/`omit`, and Django-style filter lookups."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, Literal, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
from sqlalchemy import ColumnElement, and_, not_, or_
from sqlalchemy.sql.elements import KeyedColumnElement

from vinculo.db.types import unicode_lower
from vinculo.wire.errors import InvalidValue, NotFound

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE_NUMBER = 10**12
RESERVED_PARAMETERS = frozenset({"page", "page_size", "fields", "omit", "format"})

Lookup = Literal["exact", "in", "not_in", "gt", "gte", "lt", "lte", "range", "icontains"]
LOOKUPS: frozenset[str] = frozenset(
    {"in", "not_in", "gt", "gte", "lt", "lte", "range", "icontains"}
)
ORDERED = frozenset({"exact", "gt", "gte", "lt", "lte", "range", "in"})
TEXT = frozenset({"exact", "in", "icontains"})
EXACT_OR_IN = frozenset({"exact", "in"})
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list endpoint, with absolute URLs to its neighbours."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def parse_path_id(raw: str) -> str:
    """Normalise a resource id from a URL; anything that is not a UUID is simply not found."""
    if _CANONICAL_UUID.fullmatch(raw):
        return raw
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise NotFound() from None


def page_request(query: Mapping[str, Any]) -> PageRequest:
    """Read `page` and `page_size`; sizes are clamped to 1..1000 like Belvo's."""
    raw_size = query.get("page_size")
    try:
        size = int(raw_size) if raw_size not in (None, "") else DEFAULT_PAGE_SIZE
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = min(max(size, 1), MAX_PAGE_SIZE)

    raw_number = query.get("page")
    try:
        number = int(raw_number) if raw_number not in (None, "") else 1
    except ValueError:
        raise NotFound("Invalid page.") from None
    # Past MAX_PAGE_NUMBER the offset no longer fits a database integer.
    if number < 1 or number > MAX_PAGE_NUMBER:
        raise NotFound("Invalid page.")
    return PageRequest(number, size)


def build_page(
    url: str,
    page: PageRequest,
    count: int,
    results: list[T],
    base_url: str | None = None,
    *,
    page_type: type[Page[T]] = Page,
) -> Page[T]:
    """Wrap `results` with `next`/`previous` URLs that keep every other query parameter.

    An empty page past the first one is a 404 "Invalid page.", as in Django REST Framework.
    """
    if page.number > 1 and page.offset >= count:
        raise NotFound("Invalid page.")
    has_next = page.offset + len(results) < count
    return page_type(
        count=count,
        next=_page_url(url, page.number + 1, base_url) if has_next else None,
        previous=_page_url(url, page.number - 1, base_url) if page.number > 1 else None,
        results=results,
    )


def _page_url(url: str, number: int, base_url: str | None) -> str:
    parts = urlsplit(url)
    pairs = [(key, value) for key, value in _parse_pairs(parts.query) if key != "page"]
    if number > 1:
        pairs.append(("page", str(number)))
    scheme, netloc = parts.scheme, parts.netloc
    # Belvo's URLs always end with a slash; keep that even if the request omitted it.
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if base_url:
        base = urlsplit(base_url)
        scheme, netloc = base.scheme, base.netloc
        path = base.path.rstrip("/") + path
    return urlunsplit((scheme, netloc, path, urlencode(pairs), ""))


def _parse_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def split_values(values: Iterable[str]) -> list[str]:
    """Accept both `x=a,b` and `x=a&x=b` (the Python SDK repeats parameters)."""
    return [part for value in values for part in value.split(",") if part != ""]


@dataclass(frozen=True, slots=True)
class Shape:
    """The `fields` and `omit` parameters: which top-level keys a response keeps."""

    fields: frozenset[str] | None
    omit: frozenset[str]

    @property
    def is_identity(self) -> bool:
        return self.fields is None and not self.omit

    def apply(self, item: Any) -> Any:
        if self.is_identity:
            return item
        body = msgspec.to_builtins(item) if not isinstance(item, dict) else item
        return {
            key: value
            for key, value in body.items()
            if (self.fields is None or key in self.fields) and key not in self.omit
        }


IDENTITY = Shape(None, frozenset())


def request_shape(request: Any) -> Shape:
    """Read `fields` and `omit` of a request, without parsing an empty query string."""
    if not request.scope.get("query_string"):
        return IDENTITY
    return shape_of(request.query_params)


def shape_of(multi_query: Any) -> Shape:
    """Read `fields` and `omit` from the query string."""
    if not multi_query:
        return IDENTITY
    fields = split_values(multi_query.getall("fields", []))
    omit = split_values(multi_query.getall("omit", []))
    return Shape(frozenset(fields) if fields else None, frozenset(omit))


# Filters -------------------------------------------------------------------------------------

ValueKind = Literal["str", "uuid", "datetime", "date", "int", "number", "choice"]


@dataclass(frozen=True, slots=True)
class FilterField:
    """One filterable field: the column, how its values parse and which lookups it takes."""

    column: KeyedColumnElement[Any]
    kind: ValueKind
    lookups: frozenset[str]
    choices: tuple[str, ...] = ()


def parse_filters(
    multi_query: Any, filters: Mapping[str, FilterField]
) -> list[ColumnElement[bool]]:
    """Turn the query string into SQL conditions; unknown parameters are ignored.

    A value that does not parse raises a 400 `invalid` naming the parameter.
    """
    conditions: list[ColumnElement[bool]] = []
    for key in dict.fromkeys(multi_query.keys()):
        if key in RESERVED_PARAMETERS:
            continue
        name, lookup = _split_lookup(key)
        spec = filters.get(name)
        if spec is None or lookup not in spec.lookups:
            continue
        values: list[str] = multi_query.getall(key)
        try:
            conditions.append(_condition(key, spec, lookup, values))
        except OverflowError:
            # A date at the edge of the calendar, moved by a time zone or a day past its end.
            raise InvalidValue(
                "Enter a date between 0001-01-02 and 9999-12-30.", field=key
            ) from None
    return conditions


def _split_lookup(key: str) -> tuple[str, str]:
    name, separator, suffix = key.rpartition("__")
    if separator and suffix in LOOKUPS:
        return name, suffix
    return key, "exact"


def _condition(
    key: str, spec: FilterField, lookup: str, values: Sequence[str]
) -> ColumnElement[bool]:
    column = spec.column
    if lookup == "icontains":
        needle = _parse(key, spec, values[-1]).lower()
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return unicode_lower(column).like(f"%{escaped}%", escape="\\")
    if lookup in ("in", "not_in"):
        parsed = [_parse(key, spec, value) for value in split_values(values)]
        condition: ColumnElement[bool] = (
            _days_condition(column, parsed) if spec.kind == "datetime" else column.in_(parsed)
        )
        return not_(condition) if lookup == "not_in" else condition
    if lookup == "range":
        bounds = split_values(values)
        if len(bounds) != 2:
            raise InvalidValue("Enter a range as two values separated by a comma.", field=key)
        low, high = (_parse(key, spec, bound) for bound in bounds)
        return and_(column >= _start(low), _at_most(column, high))
    value = _parse(key, spec, values[-1])
    if lookup == "exact":
        return _equals(column, value)
    comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "gt": lambda bound: column >= bound.end if isinstance(bound, _Day) else column > bound,
        "gte": lambda bound: column >= _start(bound),
        "lt": lambda bound: column < _start(bound),
        "lte": lambda bound: _at_most(column, bound),
    }
    return comparisons[lookup](value)


@dataclass(frozen=True, slots=True)
class _Day:
    """A date-only value given for a timestamp field: it stands for the whole UTC day."""

    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def _start(value: Any) -> Any:
    return value.start if isinstance(value, _Day) else value


def _at_most(column: KeyedColumnElement[Any], value: Any) -> ColumnElement[bool]:
    """`column <= value`, where a whole day includes every instant of that day."""
    if isinstance(value, _Day):
        return column < value.end
    return cast("ColumnElement[bool]", column <= value)


def _equals(column: KeyedColumnElement[Any], value: Any) -> ColumnElement[bool]:
    """`column == value`, where a whole day matches every instant of that day."""
    if isinstance(value, _Day):
        return and_(column >= value.start, column < value.end)
    return cast("ColumnElement[bool]", column == value)


def _days_condition(column: KeyedColumnElement[Any], parsed: list[Any]) -> ColumnElement[bool]:
    return or_(*(_equals(column, value) for value in parsed))


def _parse(key: str, spec: FilterField, raw: str) -> Any:
    if "\x00" in raw:
        # SQLite's LIKE ends a pattern at a NUL, which would turn a search into "match all".
        raise InvalidValue("Null characters are not allowed.", field=key)
    kind = spec.kind
    if kind == "str":
        return raw
    if kind == "uuid":
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            raise InvalidValue(f'"{raw}" is not a valid UUID.', field=key) from None
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise InvalidValue("Enter a whole number.", field=key) from None
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise InvalidValue("Enter a number.", field=key) from None
        if not math.isfinite(number):
            raise InvalidValue("Enter a number.", field=key)
        return number
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidValue("Enter a valid date.", field=key) from None
    if kind == "choice":
        if raw not in spec.choices:
            raise InvalidValue(
                f"Select a valid choice. {raw} is not one of the available choices.", field=key
            )
        return raw
    return _parse_datetime(key, raw)


def _parse_datetime(key: str, raw: str) -> datetime | _Day:
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return _Day(datetime.combine(day, time(), tzinfo=UTC))
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise InvalidValue(
            "Enter a valid date (YYYY-MM-DD) or ISO-8601 date-time.", field=key
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def filter_docs(
    filters: Mapping[str, FilterField],
) -> dict[str, tuple[str, frozenset[str], tuple[str, ...]]]:
    """Return the filter table in the shape `wire.openapi.filter_parameters` takes."""
    return {name: (spec.kind, spec.lookups, spec.choices) for name, spec in filters.items()}
