"""imsx status bodies: the OneRoster error payload, built strictly and read leniently.

A provider answers a failed request with::

    {"imsx_codeMajor": "failure", "imsx_severity": "error",
     "imsx_description": "...",
     "imsx_CodeMinor": {"imsx_codeMinorField": [
         {"imsx_codeMinorFieldName": "TargetEndSystem",
          "imsx_codeMinorFieldValue": "invalid_filter_field"}]}}

:func:`build_status` writes exactly that shape (1.1 and 1.2 agree).
:func:`parse_status` reads what providers really send: any key casing
(``imsx_codeMinor``, ``IMSX_CODEMAJOR``, ``codeMajor``), a ``statusInfoSet``
wrapper holding a list or one object, a minor field that is a list or a single
object. Anything unrecognisable gives ``None``, never an exception.

:data:`HTTP_STATUS` maps each code minor to its HTTP status;
:func:`error_status` builds the (status, body) pair a provider sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

DEFAULT_FIELD_NAME = "TargetEndSystem"

# Code minor values: the standard's vocabulary (the 1.2 OpenAPI enum). Sort
# and paging errors use the standard's values too, so every error body a
# provider sends validates; only a wrong HTTP method has a value of its own.
FULL_SUCCESS = "fullsuccess"
INVALID_FILTER_FIELD = "invalid_filter_field"
INVALID_SELECTION_FIELD = "invalid_selection_field"
INVALID_SORT_FIELD = "invalid_selection_field"  # an unknown sort field
INVALID_PAGING = "invaliddata"  # limit/offset not a usable number
INVALID_DATA = "invaliddata"
UNAUTHORISED = "unauthorisedrequest"
FORBIDDEN = "forbidden"
UNKNOWN_OBJECT = "unknownobject"
SERVER_BUSY = "server_busy"
INTERNAL_SERVER_ERROR = "internal_server_error"
UNSUPPORTED_METHOD = "unsupported_method"

HTTP_STATUS: dict[str, int] = {
    FULL_SUCCESS: 200,
    INVALID_FILTER_FIELD: 400,
    INVALID_SELECTION_FIELD: 400,
    INVALID_SORT_FIELD: 400,
    INVALID_PAGING: 400,
    UNAUTHORISED: 401,
    FORBIDDEN: 403,
    UNKNOWN_OBJECT: 404,
    UNSUPPORTED_METHOD: 405,
    INVALID_DATA: 400,
    SERVER_BUSY: 429,
    INTERNAL_SERVER_ERROR: 500,
}

# The code minor to assume for an HTTP error that came without an imsx body.
MINOR_FOR_HTTP: dict[int, str] = {
    400: INVALID_SELECTION_FIELD,
    401: UNAUTHORISED,
    403: FORBIDDEN,
    404: UNKNOWN_OBJECT,
    405: UNSUPPORTED_METHOD,
    422: INVALID_DATA,
    429: SERVER_BUSY,
    500: INTERNAL_SERVER_ERROR,
}


@dataclass(frozen=True)
class ImsxStatus:
    """One imsx status: code major, severity, description and (name, value) code minors."""

    code_major: str = "failure"
    severity: str = "error"
    description: str = ""
    code_minor: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "code_minor", tuple((str(n), str(v)) for n, v in self.code_minor))

    @property
    def minor(self) -> str | None:
        """The first code minor value, e.g. ``invalid_filter_field``."""
        return self.code_minor[0][1] if self.code_minor else None

    @property
    def minors(self) -> tuple[str, ...]:
        return tuple(v for _, v in self.code_minor)

    def to_dict(self) -> dict:
        """The standard JSON body."""
        body: dict = {"imsx_codeMajor": self.code_major, "imsx_severity": self.severity}
        if self.description:
            body["imsx_description"] = self.description
        if self.code_minor:
            body["imsx_CodeMinor"] = {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": n, "imsx_codeMinorFieldValue": v} for n, v in self.code_minor
            ]}
        return body


def build_status(
    code_minor: str | None = None,
    description: str = "",
    *,
    code_major: str = "failure",
    severity: str = "error",
    field_name: str = DEFAULT_FIELD_NAME,
) -> dict:
    """The imsx JSON body for one code minor (``None`` for no minor)."""
    minors = ((field_name, code_minor),) if code_minor else ()
    return ImsxStatus(code_major, severity, description, minors).to_dict()


def error_status(code_minor: str, description: str) -> tuple[int, dict]:
    """``(http_status, body)`` for a standard error; unknown minors are 500s."""
    return HTTP_STATUS.get(code_minor, 500), build_status(code_minor, description)


# --------------------------------------------------------------------------- lenient reading


def _norm(key: object) -> str:
    text = str(key).lower().replace("_", "").replace("-", "")
    return text[4:] if text.startswith("imsx") else text


def _get(obj: Mapping, *names: str) -> object:
    wanted = {_norm(n) for n in names}
    for key, value in obj.items():
        if _norm(key) in wanted:
            return value
    return None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _minors(block: object) -> list[tuple[str, str]]:
    if isinstance(block, Mapping):
        inner = _get(block, "codeMinorField", "codeMinorFields")
        if inner is None and _get(block, "codeMinorFieldValue") is not None:
            inner = block
        block = inner
    items = block if isinstance(block, list) else [block] if isinstance(block, Mapping | str) else []
    out = []
    for item in items:
        if isinstance(item, Mapping):
            value = _text(_get(item, "codeMinorFieldValue", "value"))
            if value:
                name = _text(_get(item, "codeMinorFieldName", "name")) or DEFAULT_FIELD_NAME
                out.append((name, value))
        elif isinstance(item, str) and item:
            out.append((DEFAULT_FIELD_NAME, item))
    return out


def _from_mapping(obj: Mapping, depth: int = 0) -> ImsxStatus | None:
    wrapped = _get(obj, "statusInfoSet", "statusInfo")
    if wrapped is not None and depth < 3:
        candidates = wrapped if isinstance(wrapped, list) else [wrapped]
        for candidate in candidates:
            if isinstance(candidate, Mapping):
                found = _from_mapping(candidate, depth + 1)
                if found is not None:
                    return found
        return None
    major = _text(_get(obj, "codeMajor"))
    minors = _minors(_get(obj, "codeMinor"))
    if major is None and not minors:
        return None
    return ImsxStatus(
        code_major=major or "failure",
        severity=_text(_get(obj, "severity")) or "error",
        description=_text(_get(obj, "description")) or "",
        code_minor=tuple(minors),
    )


def parse_status(body: bytes | str | Mapping | None) -> ImsxStatus | None:
    """The imsx status in ``body`` (raw JSON or decoded), or ``None`` if there is none."""
    try:
        if isinstance(body, bytes | bytearray | memoryview | str):
            body = orjson.loads(body)
        if isinstance(body, list) and body and isinstance(body[0], Mapping):
            body = body[0]
        if not isinstance(body, Mapping):
            return None
        return _from_mapping(body)
    except (orjson.JSONDecodeError, TypeError, ValueError, RecursionError):
        return None
