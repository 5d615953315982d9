"""Fault switches for the sandbox: what a misbehaving OneRoster provider does.

:class:`Faults` holds one :class:`FaultConfig` (switchable at run time, from
any thread) and counts every fault it fires, so tests can assert on it::

    faults = Faults(FaultConfig(rate_limit=0.2, fail_once=503))
    faults.set(no_link=True)            # switch another on while serving
    faults.fired["rate_limit"]          # how many 429s were sent

The switches (names are also the counter keys and the CLI ``--fault`` names):

* ``rate_limit``: fraction of API requests answered 429 with ``Retry-After``
  (``retry_after`` seconds);
* ``fail_once``: 500, 502 or 503: the first request to each path+query fails,
  the retry succeeds;
* ``delay``: seconds added to every API response;
* ``drop``: fraction of 200 API responses cut off mid-body (connection closed);
* ``expire_tokens_after``: after N API requests every issued token expires
  (once; counted as ``expire_tokens``);
* ``no_total_count`` / ``no_link``: the paging header left out;
* ``insert_record``: after the first page of a collection is served, a new
  record appears in it before the current offset, so the total shifts.

Chance is deterministic: whether the n-th request for one URL is hit depends
only on ``(seed, fault, URL, n)``, not on how threads interleave.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

from ..errors import ConfigError

FAIL_STATUSES = (500, 502, 503)
FAULT_NAMES = ("rate_limit", "fail_once", "delay", "drop", "expire_tokens", "no_total_count", "no_link",
               "insert_record")


class FaultSpecError(ConfigError):
    """A fault switch was given a name or value it does not take."""


@dataclass(frozen=True)
class FaultConfig:
    """Which faults are on. Every field's default is "off"."""

    rate_limit: float = 0.0
    retry_after: float = 1.0
    fail_once: int = 0
    delay: float = 0.0
    drop: float = 0.0
    expire_tokens_after: int = 0
    no_total_count: bool = False
    no_link: bool = False
    insert_record: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rate_limit", "drop"):
            value = getattr(self, name)
            if not _number(value) or not 0.0 <= value <= 1.0:
                raise FaultSpecError(f"fault {name} must be a fraction between 0 and 1, not {value!r}",
                                     fix=f"e.g. --fault {name}=0.1")
        for name in ("retry_after", "delay"):
            value = getattr(self, name)
            if not _number(value) or not 0.0 <= value <= 3600:
                raise FaultSpecError(f"fault {name} must be seconds between 0 and 3600, not {value!r}",
                                     fix=f"e.g. --fault {name}=2")
        if self.fail_once not in (0, *FAIL_STATUSES):
            raise FaultSpecError(f"fault fail_once must be 500, 502 or 503 (0 for off), not {self.fail_once!r}",
                                 fix="e.g. --fault fail_once=503")
        for name in ("expire_tokens_after", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FaultSpecError(f"fault {name} must be a whole number, 0 or more, not {value!r}",
                                     fix=f"e.g. --fault {name}=100")
        for name in ("no_total_count", "no_link", "insert_record"):
            if not isinstance(getattr(self, name), bool):
                raise FaultSpecError(f"fault {name} is a switch: true or false, not {getattr(self, name)!r}")

    def active(self) -> list[str]:
        """The names of the switches that are on."""
        return [f.name for f in fields(self)
                if f.name not in ("seed", "retry_after") and getattr(self, f.name) != f.default]

    def to_dict(self) -> dict:
        return asdict(self)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# name -> (type, value when given without "=")
_SPEC: dict[str, tuple[type, object]] = {
    "rate_limit": (float, 0.1),
    "retry_after": (float, 1.0),
    "fail_once": (int, 500),
    "delay": (float, 1.0),
    "drop": (float, 1.0),
    "expire_tokens_after": (int, 100),
    "no_total_count": (bool, True),
    "no_link": (bool, True),
    "insert_record": (bool, True),
    "seed": (int, 0),
}
_ALIASES = {"rate-limit": "rate_limit", "429": "rate_limit", "slow": "delay", "expire_tokens": "expire_tokens_after",
            "no_headers": "no_total_count+no_link", "insert": "insert_record", "shift_total": "insert_record"}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_fault_specs(specs: Iterable[str]) -> dict[str, object]:
    """``["rate_limit=0.2", "no_link", "fail_once=503"]`` -> field values for :class:`FaultConfig`.

    Several specs may share one string, separated by commas or spaces.
    """
    out: dict[str, object] = {}
    for text in specs:
        for item in str(text).replace(",", " ").split():
            name, has_value, raw = item.partition("=")
            name = name.strip().lower().replace("-", "_")
            for one in _ALIASES.get(name, name).split("+"):
                if one not in _SPEC:
                    raise FaultSpecError(
                        f"unknown fault {name!r} in {item!r}",
                        fix="use one of: " + ", ".join(_SPEC),
                    )
                out[one] = _value(one, raw.strip(), item) if has_value else _SPEC[one][1]
    return out


def _value(name: str, raw: str, item: str) -> object:
    kind = _SPEC[name][0]
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise FaultSpecError(f"fault {name} takes true or false, not {raw!r} (in {item!r})")
    try:
        value = kind(raw)
    except ValueError:
        raise FaultSpecError(f"fault {name} takes a number, not {raw!r} (in {item!r})",
                             fix=f"e.g. {name}={_SPEC[name][1]}") from None
    if kind is float and not math.isfinite(value):
        raise FaultSpecError(f"fault {name} takes a finite number, not {raw!r} (in {item!r})")
    return value


def _chance(seed: int, fault: str, key: str, n: int) -> float:
    """A uniform number in [0, 1) fixed by its arguments."""
    digest = hashlib.blake2b(f"{seed}|{fault}|{key}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Faults:
    """The live fault switches of one sandbox, and what they fired.

    Decisions (``rate_limited``, ``fail_status``, ...) both decide and count:
    call each once per request.
    """

    def __init__(self, config: FaultConfig | Mapping[str, object] | Iterable[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self.fired: Counter[str] = Counter()
        self._seen: dict[tuple[str, str], int] = {}
        self._failed: set[str] = set()
        self._inserted: set[tuple[str, str]] = set()
        self._api_requests = 0
        self._expired = False
        if config is not None:
            self.replace(config)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def replace(self, config: FaultConfig | Mapping[str, object] | Iterable[str]) -> FaultConfig:
        """Switch to ``config`` (a FaultConfig, field values, or CLI-style specs); others go off."""
        if isinstance(config, FaultConfig):
            new = config
        elif isinstance(config, Mapping):
            new = _build(FaultConfig(), config)
        elif isinstance(config, str):
            new = _build(FaultConfig(), parse_fault_specs([config]))
        else:
            new = _build(FaultConfig(), parse_fault_specs(config))
        self._install(new)
        return new

    def set(self, **changes: object) -> FaultConfig:
        """Change some switches, keep the others."""
        new = _build(self._config, changes)
        self._install(new)
        return new

    def off(self) -> None:
        """Every fault off (counters are kept)."""
        self._install(FaultConfig(seed=self._config.seed))

    def _install(self, new: FaultConfig) -> None:
        with self._lock:
            old, self._config = self._config, new
            if new.fail_once != old.fail_once:
                self._failed.clear()  # switching it (back) on fails each path once more
            if new.expire_tokens_after != old.expire_tokens_after:
                self._api_requests, self._expired = 0, False
            if new.insert_record and not old.insert_record:
                self._inserted.clear()

    # -- decisions, one per request ----------------------------------------------------

    def _hit(self, fault: str, key: str, fraction: float) -> bool:
        if fraction <= 0.0:
            return False
        with self._lock:
            n = self._seen.get((fault, key), 0)
            if len(self._seen) < 1_000_000:
                self._seen[(fault, key)] = n + 1
            hit = fraction >= 1.0 or _chance(self._config.seed, fault, key, n) < fraction
            if hit:
                self.fired[fault] += 1
            return hit

    def rate_limited(self, key: str) -> float | None:
        """Seconds for Retry-After when this request is to be answered 429, else None."""
        config = self._config
        return config.retry_after if self._hit("rate_limit", key, config.rate_limit) else None

    def fail_status(self, key: str) -> int | None:
        """500/502/503 when this is the first request to ``key`` (path and query) since the switch."""
        status = self._config.fail_once
        if not status:
            return None
        with self._lock:
            if key in self._failed:
                return None
            self._failed.add(key)
            self.fired["fail_once"] += 1
            return status

    def delay_seconds(self) -> float:
        seconds = self._config.delay
        if seconds > 0:
            with self._lock:
                self.fired["delay"] += 1
        return seconds

    def tokens_expire_now(self) -> bool:
        """True once, when an API request arrives after ``expire_tokens_after`` were served."""
        limit = self._config.expire_tokens_after
        if not limit:
            return False
        with self._lock:
            if self._expired or self._api_requests < limit:
                return False
            self._expired = True
            self.fired["expire_tokens"] += 1
            return True

    def api_request_served(self) -> None:
        """Count an authorised API request (for ``expire_tokens_after``)."""
        with self._lock:
            self._api_requests += 1

    def dropped(self, key: str) -> bool:
        """True when this 200 response is to be cut off mid-body."""
        return self._hit("drop", key, self._config.drop)

    def strip_headers(self, headers: dict[str, str]) -> None:
        """Remove X-Total-Count and/or Link from a collection response's headers."""
        config = self._config
        for switch, name in ((config.no_total_count, "X-Total-Count"), (config.no_link, "Link")):
            if switch and name in headers:
                del headers[name]
                with self._lock:
                    self.fired["no_total_count" if name == "X-Total-Count" else "no_link"] += 1

    def should_insert(self, collection: str, version: str) -> bool:
        """True once per collection and version while ``insert_record`` is on (caller inserts)."""
        if not self._config.insert_record:
            return False
        with self._lock:
            if (collection, version) in self._inserted:
                return False
            self._inserted.add((collection, version))
            self.fired["insert_record"] += 1
            return True

    def counts(self) -> dict[str, int]:
        """Faults fired so far, by name (every name present)."""
        with self._lock:
            return {name: self.fired.get(name, 0) for name in FAULT_NAMES}


def _build(base: FaultConfig, changes: Mapping[str, object]) -> FaultConfig:
    known = {f.name for f in fields(FaultConfig)}
    unknown = [name for name in changes if name not in known]
    if unknown:
        raise FaultSpecError(f"unknown fault {unknown[0]!r}", fix="use one of: " + ", ".join(sorted(known)))
    values = dict(changes)
    for name in ("rate_limit", "drop", "retry_after", "delay"):  # accept ints for fractions and seconds
        if isinstance(values.get(name), int) and not isinstance(values.get(name), bool):
            values[name] = float(values[name])  # type: ignore[arg-type]
    if values.get("fail_once") is None and "fail_once" in values:
        values["fail_once"] = 0
    if values.get("expire_tokens_after") is None and "expire_tokens_after" in values:
        values["expire_tokens_after"] = 0
    return replace(base, **values)
