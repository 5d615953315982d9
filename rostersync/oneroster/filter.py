"""The OneRoster filter grammar (ONEROSTER.md section 4): parse, build, evaluate.

Grammar (whitespace is allowed around operators and logical keywords)::

    filter  := clause ( logic clause )*
    clause  := field op value
    field   := segment ( "." segment )*        segment := [A-Za-z_][A-Za-z0-9_-]*
    op      := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    value   := "'" ( any character but "'" | "''" )* "'"
    logic   := "AND" | "OR"                     (case-insensitive)

The standard allows one logical operator joining two clauses. We accept any
number of clauses as long as they are all joined by the *same* keyword
(``a='1' AND b='2' AND c='3'``); mixing ``AND`` and ``OR`` has no defined
precedence in the standard, so it is a :class:`FilterSyntaxError`.

Evaluation (:func:`matches`) works on JSON-ready record dicts:

* a dotted field walks through dicts; where it reaches a list, every element
  is tried (``roles.role='student'`` matches if any role is student); a leaf
  that is a GUIDRef dict compares by its ``sourcedId``;
* ``=``, ``>``, ``>=``, ``<``, ``<=`` and ``~`` hold when *any* reached value
  satisfies them; ``!=`` is the negation of ``=`` (no reached value equals
  the operand, so a missing field is ``!=`` everything);
* values compare as strings: booleans as ``true``/``false``, numbers as their
  decimal text (so ``'10' < '9'``, numbers-as-strings compare lexically);
  two UTC timestamps compare as instants (``...00Z`` equals ``...00.000Z``),
  other ISO dates compare lexically, which orders them correctly;
* ``~`` (contains) is a case-insensitive substring test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, timezone
from functools import lru_cache

from ..errors import Terminal

OPS: tuple[str, ...] = ("=", "!=", ">", ">=", "<", "<=", "~")
LOGICS: tuple[str, ...] = ("AND", "OR")
_FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*")
_SEGMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_WS = " \t\r\n"
_OP_TEXT = "an operator (=, !=, >, >=, <, <=, ~)"


class FilterSyntaxError(Terminal):
    """The filter is not valid OneRoster filter syntax."""

    def __init__(self, expected: str, position: int, *, detail: str | None = None) -> None:
        self.expected = expected
        self.position = position  # 0-based offset into the filter text
        message = f"filter syntax error at character {position + 1}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(
            message,
            fix="Write filters as field<op>'value', e.g. status='active' or "
            "dateLastModified>'2026-09-01T00:00:00.000Z'; double a quote inside a value.",
        )


@dataclass(frozen=True)
class Clause:
    """One ``field op 'value'`` comparison."""

    field: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not _FIELD_RE.fullmatch(self.field):
            raise FilterSyntaxError("a field name such as status or school.sourcedId", 0,
                                    detail=f"got {self.field!r}")
        if self.op not in OPS:
            raise FilterSyntaxError(_OP_TEXT, len(self.field), detail=f"got {self.op!r}")
        if not isinstance(self.value, str):
            object.__setattr__(self, "value", _value_text(self.value))

    def __str__(self) -> str:
        return f"{self.field}{self.op}'{self.value.replace(chr(39), chr(39) * 2)}'"


@dataclass(frozen=True)
class Filter:
    """Clauses joined by one logical keyword (``AND`` for a single clause)."""

    clauses: tuple[Clause, ...]
    logic: str = dc_field(default="AND")

    def __post_init__(self) -> None:
        clauses = tuple(self.clauses)
        if not clauses:
            raise FilterSyntaxError("at least one clause", 0)
        logic = self.logic.upper() if isinstance(self.logic, str) else self.logic
        if logic not in LOGICS:
            raise FilterSyntaxError("AND or OR", 0, detail=f"got {self.logic!r}")
        object.__setattr__(self, "clauses", clauses)
        object.__setattr__(self, "logic", "AND" if len(clauses) == 1 else logic)

    @property
    def fields(self) -> tuple[str, ...]:
        """The field of every clause, in order."""
        return tuple(c.field for c in self.clauses)

    def __str__(self) -> str:
        return f" {self.logic} ".join(str(c) for c in self.clauses)


# --------------------------------------------------------------------------- parsing


def parse_filter(text: str) -> Filter:
    """Parse filter text; raises :class:`FilterSyntaxError` naming the position and what was expected."""
    if not isinstance(text, str):
        raise FilterSyntaxError("filter text", 0, detail=f"got {type(text).__name__}")
    n = len(text)
    pos = _skip_ws(text, 0)
    clauses: list[Clause] = []
    logic: str | None = None
    while True:
        clause, pos = _parse_clause(text, pos)
        clauses.append(clause)
        pos = _skip_ws(text, pos)
        if pos >= n:
            break
        keyword_at = pos
        word = _keyword_at(text, pos)
        if word is None:
            raise FilterSyntaxError("AND, OR or the end of the filter", pos)
        pos += len(word)
        if pos >= n or _skip_ws(text, pos) >= n:
            raise FilterSyntaxError(f"a clause after {word.upper()}", n)
        if text[pos] not in _WS:
            raise FilterSyntaxError(f"a space after {word.upper()}", pos)
        word = word.upper()
        if logic is not None and word != logic:
            raise FilterSyntaxError(
                f"{logic} (AND and OR cannot be mixed in one filter)", keyword_at)
        logic = word
        pos = _skip_ws(text, pos)
    return Filter(tuple(clauses), logic or "AND")


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _keyword_at(text: str, pos: int) -> str | None:
    for word in ("and", "or"):
        if text[pos:pos + len(word)].lower() == word:
            return text[pos:pos + len(word)]
    return None


def _parse_clause(text: str, pos: int) -> tuple[Clause, int]:
    n = len(text)
    m = _SEGMENT_RE.match(text, pos)
    if m is None:
        raise FilterSyntaxError("a field name", pos)
    end = m.end()
    while end < n and text[end] == ".":
        m = _SEGMENT_RE.match(text, end + 1)
        if m is None:
            raise FilterSyntaxError("a field name segment after '.'", end + 1)
        end = m.end()
    name = text[pos:end]
    pos = _skip_ws(text, end)
    op = None
    for candidate in (">=", "<=", "!=", "=", ">", "<", "~"):
        if text.startswith(candidate, pos):
            op = candidate
            break
    if op is None:
        raise FilterSyntaxError(_OP_TEXT, pos)
    pos = _skip_ws(text, pos + len(op))
    if pos >= n or text[pos] != "'":
        raise FilterSyntaxError("a value in single quotes", pos)
    start = pos
    pos += 1
    parts: list[str] = []
    while True:
        close = text.find("'", pos)
        if close < 0:
            raise FilterSyntaxError("a closing quote (')", n,
                                    detail=f"the value opened at character {start + 1} never ends")
        parts.append(text[pos:close])
        if close + 1 < n and text[close + 1] == "'":
            parts.append("'")
            pos = close + 2
            continue
        return Clause(name, op, "".join(parts)), close + 1


# --------------------------------------------------------------------------- building


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        raise FilterSyntaxError("a value", 0, detail="got None")
    return str(value)


def build_filter(*clauses: Clause | tuple[str, str, object], logic: str = "AND") -> str:
    """Canonical filter text for ``clauses`` (Clause or ``(field, op, value)``) joined by ``logic``.

    Values may be str, bool (``true``/``false``), datetime (UTC, milliseconds),
    date or anything ``str()`` renders.
    """
    built = tuple(c if isinstance(c, Clause) else Clause(*c) for c in clauses)
    return str(Filter(built, logic))


def format_timestamp(moment: datetime | str) -> str:
    """``2026-09-01T00:00:00.000Z``: UTC with milliseconds (naive datetimes are taken as UTC)."""
    if isinstance(moment, str):
        text = moment.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError as exc:
            raise FilterSyntaxError("an ISO 8601 timestamp", 0,
                                    detail="the delta timestamp could not be read") from exc
    if not isinstance(moment, datetime):
        raise FilterSyntaxError("a datetime or ISO 8601 timestamp", 0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def since_filter(timestamp: datetime | str) -> str:
    """The delta filter ``dateLastModified>'<timestamp>'`` with full millisecond precision."""
    return f"dateLastModified>'{format_timestamp(timestamp)}'"


# --------------------------------------------------------------------------- evaluation


def values_at(record: Mapping, path: str) -> Iterator[object]:
    """Every leaf reached by a dotted ``path``, fanning out over lists."""
    return _walk(record, path.split("."), 0)


def _walk(node: object, parts: list[str], i: int) -> Iterator[object]:
    if isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item, parts, i)
        return
    if i == len(parts):
        if isinstance(node, Mapping):
            ref = node.get("sourcedId")
            if ref is not None:
                yield ref
        elif node is not None:
            yield node
        return
    if isinstance(node, Mapping):
        child = node.get(parts[i])
        if child is not None:
            yield from _walk(child, parts, i + 1)


def leaf_text(value: object) -> str:
    """The string a leaf value compares as."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _instant(text: str) -> datetime | None:
    if len(text) < 11 or text[10] not in "Tt ":
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_ORDER: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _value_test(clause: Clause) -> Callable[[object], bool]:
    """``leaf -> bool`` for one clause (``!=`` tests equality; the caller negates)."""
    operand = clause.value
    if clause.op == "~":
        needle = operand.casefold()
        return lambda value: needle in leaf_text(value).casefold()

    compare = _ORDER["=" if clause.op == "!=" else clause.op]
    operand_instant = _instant(operand)
    if operand_instant is None:
        return lambda value: compare(leaf_text(value), operand)
    operand_utc = operand.endswith("Z")

    def test(value: object) -> bool:
        text = leaf_text(value)
        # Same-shape UTC timestamps order lexically; anything else is parsed.
        if not (operand_utc and len(text) == len(operand) and text.endswith("Z")):
            other = _instant(text)
            if other is not None:
                return compare(other, operand_instant)
        return compare(text, operand)

    return test


def _clause_predicate(clause: Clause) -> Callable[[Mapping], bool]:
    parts = clause.field.split(".")
    test = _value_test(clause)
    negate = clause.op == "!="

    def any_leaf(record: Mapping) -> bool:
        return any(test(v) for v in _walk(record, parts, 0))

    if len(parts) == 1:  # fast path for top-level scalar fields (status, role, dateLastModified)
        key = parts[0]

        def top_level(record: Mapping) -> bool:
            value = record.get(key)
            if type(value) is str:
                return test(value) is not negate
            return any_leaf(record) is not negate

        return top_level
    if negate:
        return lambda record: not any_leaf(record)
    return any_leaf


def compile_filter(flt: Filter | str) -> Callable[[Mapping], bool]:
    """A predicate ``record -> bool`` for ``flt`` (parsed if text)."""
    if isinstance(flt, str):
        flt = parse_filter(flt)
    return _compiled(flt)


@lru_cache(maxsize=256)
def _compiled(flt: Filter) -> Callable[[Mapping], bool]:
    tests = [_clause_predicate(c) for c in flt.clauses]
    if len(tests) == 1:
        return tests[0]
    if flt.logic == "AND":
        return lambda record: all(t(record) for t in tests)
    return lambda record: any(t(record) for t in tests)


def matches(flt: Filter | str, record: Mapping) -> bool:
    """True when ``record`` (a JSON-ready dict) satisfies ``flt``."""
    return compile_filter(flt)(record)


def select(flt: Filter | str, records: Iterable[Mapping]) -> Iterator[Mapping]:
    """The records that satisfy ``flt``, in order."""
    predicate = compile_filter(flt)
    return (r for r in records if predicate(r))
