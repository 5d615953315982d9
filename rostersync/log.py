"""Logging that cannot print a secret.

Two layers, both applied to the final formatted text (message, arguments and
traceback alike), so no code path can bypass them:

* every value passed to :func:`register_secret` (client secrets, consumer
  secrets, access tokens, intake tokens) is replaced by ``[redacted]``;
* well-known credential shapes are masked even when nobody registered them:
  ``Authorization`` headers, ``client_secret=``/``access_token=``/``password=``
  style pairs in query strings, form bodies and JSON, and ``oauth_signature``.

:func:`configure_logging` installs the redacting formatter on the root logger.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading

REDACTED = "[redacted]"

_lock = threading.Lock()
MIN_SECRET_LENGTH = 8
MAX_SECRETS = 20_000  # the oldest (expired tokens, mostly) are forgotten past this
_secrets: dict[str, None] = {}  # insertion-ordered set
_secret_re: re.Pattern[str] | None = None
_dirty = False

_SENSITIVE_KEYS = (
    "client_secret|consumer_secret|access_token|refresh_token|id_token|password|passwd|"
    "secret|token|oauth_signature|api_key|apikey"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer xxx / Basic xxx / OAuth k="v", ...
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic|oauth)\s+[^\"'\r\n]+"), r"\1\2 " + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*"), r"\1 " + REDACTED),
    # key=value in query strings, form bodies and k="v" OAuth header params
    (re.compile(rf"(?i)\b((?:{_SENSITIVE_KEYS})\w*)=(\"[^\"]*\"|[^&\s,;\"']+)"), r"\1=" + REDACTED),
    # "key": "value" in JSON and Python reprs
    (re.compile(rf"(?i)([\"']\w*(?:{_SENSITIVE_KEYS})\w*[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2"), r"\1\2" + REDACTED + r"\2"),
)


def register_secret(value: str | None) -> None:
    """Never let ``value`` appear in a log line from now on.

    Values under 8 characters are not registered: masking a word as short as
    ``secret`` would mangle ordinary text, and no real credential is that short.
    """
    global _dirty
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets[value] = None
        while len(_secrets) > MAX_SECRETS:
            del _secrets[next(iter(_secrets))]
        _dirty = True


def _secret_pattern() -> re.Pattern[str] | None:
    global _secret_re, _dirty
    if _dirty:
        with _lock:
            if _dirty:
                ordered = sorted(_secrets, key=len, reverse=True)
                _secret_re = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
                _dirty = False
    return _secret_re


def redact(text: str) -> str:
    """``text`` with every registered secret and credential-shaped value masked."""
    pattern = _secret_pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, repl in _PATTERNS:
        text = regex.sub(repl, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose every output line has gone through :func:`redact`."""

    def __init__(self, fmt: str | None = None, *, as_json: bool = False) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        if self.as_json:
            payload = {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                payload["exception"] = self.formatException(record.exc_info)
            return redact(json.dumps(payload, ensure_ascii=False))
        return redact(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is logged (a test runner or a daemon
    may replace it after logging was configured; a handler holding the old one would fail)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler's constructor assigns it
        pass


def configure_logging(level: str = "INFO", *, as_json: bool = False, stream=None) -> logging.Handler:
    """Send rostersync's (and its libraries') logs through a redacting handler (to ``stream``, or
    to the current ``sys.stderr``)."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(RedactingFormatter(as_json=as_json))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_rostersync", False):
            root.removeHandler(old)
    handler._rostersync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; keep it at WARNING unless debugging.
    if level.upper() != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)
    return handler
