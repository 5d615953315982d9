"""The OneRoster REST client: one district, every collection, page by page.

:meth:`OneRosterClient.read` streams one collection as typed records. Pages
after the first are fetched ahead on a thread pool, as many at once as the
vendor profile allows (Infinite Campus: 5 off-peak, 1 at peak), and handed out
in order; at most a few pages are buffered, so no collection is ever held
whole.

Exactly once: every record's sourcedId is remembered as a 64-bit hash (about
35-70 bytes a record, the one thing that grows with the collection) and a
repeat is dropped. A pass whose ``X-Total-Count`` changed, or that came up
short of it, is followed by a re-read that yields only records not yet seen,
until a pass is consistent (at most ``profile.max_read_passes``); otherwise the
collection fails with a :class:`SourceError`, and the caller must not
reconcile it.

Every request goes through one ``httpx.Client`` (its transport replaceable),
with retries on 429/5xx/timeouts/dropped connections (:mod:`.retry`) and
errors typed by :mod:`.responses`.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from ..errors import Transient
from ..log import register_secret
from ..oneroster.filter import since_filter
from ..oneroster.kinds import Kind, Version
from ..oneroster.records import Record, RecordError, parse_record
from ..oneroster.resources import RESOURCES, Resource
from .auth import OAuth1Signer, OAuth2ClientCredentials
from .connection import ConnectionSpec, OAuth2Credentials
from .errors import InvalidResponse, ProviderUnavailable, SourceError
from .paging import OffsetPaging, Page
from .profiles import Profile, get_profile
from .responses import decode_body, error_for_exception, error_for_response, page_items, total_count, where
from .retry import Backoff, Gate, InFlight

log = logging.getLogger(__name__)

USER_AGENT = "rostersync/0.1 (+OneRoster client)"


@dataclass
class ClientStats:
    """What one client did; safe to read at any time."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    max_in_flight: int = 0
    bytes: int = 0
    seconds_waited: float = 0.0
    duplicates: int = 0  # records seen twice and dropped
    rereads: int = 0  # extra passes over a collection whose total shifted
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass(frozen=True)
class Probe:
    """The first page of a collection, for counting and checking."""

    resource: str
    total: int | None  # X-Total-Count
    items: list[Any]  # raw objects, as received
    date: str | None  # the provider's Date header


@dataclass
class _Pass:
    """What one read pass saw, to decide whether it was consistent."""

    number: int
    records: int = 0
    new: int = 0
    duplicates: int = 0
    totals: set[int] = field(default_factory=set)

    def add(self, records: int, new: int) -> None:
        self.records += records
        self.new += new
        self.duplicates += records - new

    def settled(self) -> bool:
        if self.totals:
            return len(self.totals) == 1 and self.records >= next(iter(self.totals))
        return self.duplicates == 0 if self.number == 0 else self.new == 0

    def failure(self, what: str) -> SourceError:
        if len(self.totals) == 1:
            (total,) = self.totals
            return InvalidResponse(
                f"{what}: X-Total-Count said {total} records but only {self.records} were served",
                fix="The provider cut the collection short; try again later, and report it to the vendor "
                    "if it keeps happening.",
            )
        return ProviderUnavailable(
            f"{what}: the collection kept changing while it was read "
            f"(X-Total-Count {', '.join(str(t) for t in sorted(self.totals)) or 'absent'})",
            fix="The district's data was being edited; rostersync reads it again later.",
        )


def build_auth(spec: ConnectionSpec, *, clock: Callable[[], float]) -> httpx.Auth:
    """The httpx.Auth flow for the spec's credentials."""
    creds = spec.credentials
    if isinstance(creds, OAuth2Credentials):
        return OAuth2ClientCredentials(
            client_id=creds.client_id, client_secret=creds.client_secret,
            token_url=creds.token_url, scopes=creds.scopes, clock=clock,
        )
    return OAuth1Signer(consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret,
                        signature_method=creds.signature_method, clock=clock)


class OneRosterClient:
    """Reads one district's OneRoster collections (see the module docstring)."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        transport: httpx.BaseTransport | None = None,
        profile: Profile | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        peak: bool | None = None,
        timeout: float = 30.0,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.spec = spec
        self.profile = profile or get_profile(spec.profile)
        self.api_root = spec.api_root
        self.version = spec.resolved_version
        for secret in spec.secrets().values():
            register_secret(secret)
        self._clock = clock
        self._sleep = sleep
        self._peak = peak
        self.auth = auth or build_auth(spec, clock=clock)
        self._http = httpx.Client(
            transport=transport,
            auth=self.auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
            limits=httpx.Limits(max_connections=self.profile.max_in_flight + 2,
                                max_keepalive_connections=self.profile.max_in_flight + 2),
        )
        self._backoff = Backoff(
            base=self.profile.backoff_base, cap=self.profile.backoff_cap,
            max_attempts=self.profile.max_attempts, budget=self.profile.retry_budget,
        )
        self._gate = Gate(clock=clock, sleep=self._timed_sleep)
        self._in_flight = InFlight(self.profile.max_in_flight)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._prefetched: dict[tuple[str, tuple], Future[httpx.Response]] = {}  # first pages asked for early
        self._closing = threading.Event()  # tells background retries of prefetches to give up
        self.stats = ClientStats()
        self.last_date: str | None = None  # the Date header of the latest response (clock-skew checks)

    # -- public API ----------------------------------------------------------

    def read(self, resource: str, *, since: str | datetime.datetime | None = None) -> Iterator[Record | RecordError]:
        """Stream every record of one collection, exactly once, or raise a SourceError.

        ``resource`` is a name from RESOURCES (``"students"``); ``since`` makes
        it a delta read (``dateLastModified>'...Z'``). A malformed record is
        yielded as a :class:`RecordError` for the caller to report.
        """
        return _parsed(self.read_objects(resource, since=since), _resource(resource).kind, self.version)

    def read_objects(self, resource: str, *, since: str | datetime.datetime | None = None) -> Iterator[Any]:
        """:meth:`read`, but each record as the JSON value the provider sent (not parsed, not checked:
        see :func:`rostersync.oneroster.records.parse_record`); still exactly once per sourcedId."""
        return (obj for page in self.read_pages(resource, since=since) for obj in page)

    def read_pages(self, resource: str, *, since: str | datetime.datetime | None = None) -> Iterator[list[Any]]:
        """:meth:`read_objects` a page at a time: each list holds what one page brought that was
        not yielded before (never empty). A sync reads this way: no per-record generator step."""
        res = _resource(resource)
        params = {"filter": since_filter(since)} if since is not None else {}
        return self._read(res, params)

    def prefetch(self, resource: str, *, since: str | datetime.datetime | None = None) -> None:
        """Ask now for the first page that ``read_objects(resource, since=since)`` will want, so it
        is ready when that read starts (a sync calls this for its next collection)."""
        res = _resource(resource)
        url, params = self._first_page(res, {"filter": since_filter(since)} if since is not None else {})
        key = (url, tuple(sorted(params.items())))
        with self._pool_lock:
            known = key in self._prefetched
        if not known:
            future = self._submit(url, params, self._closing)
            with self._pool_lock:
                self._prefetched[key] = future

    def _first_page(self, res: Resource, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"{self.api_root}/{res.name}", {**params, "limit": self.profile.page_size, "offset": 0}

    def count(self, resource: str) -> int | None:
        """The collection's size from ``X-Total-Count`` (one record fetched), None when not offered."""
        return self.peek(resource, limit=1).total

    def peek(self, resource: str, *, limit: int = 1) -> Probe:
        """The first page of ``resource`` (validated like any page)."""
        res = _resource(resource)
        url = f"{self.api_root}/{res.name}"
        response = self._get(url, {"limit": limit, "offset": 0})
        body = decode_body(response)
        items = page_items(body, res, place=where(url))
        return Probe(res.name, total_count(response), items, response.headers.get("date"))

    def get(self, resource: str, sourced_id: str) -> Record:
        """One record by sourcedId; NotFound when the provider does not know it."""
        res = _resource(resource)
        url = f"{self.api_root}/{res.name}/{quote(sourced_id, safe='')}"
        body = decode_body(self._get(url, None))
        obj = _single(body, res)
        if obj is None:
            keys = ", ".join(repr(k) for k in list(body)[:5]) or "none"
            raise InvalidResponse(f"{where(url)} has no {res.single!r} object in its body (keys: {keys})")
        try:
            return parse_record(res.kind, obj, self.version)
        except RecordError as exc:
            raise InvalidResponse(f"{where(url)}: {exc}") from exc

    def close(self) -> None:
        self._closing.set()
        with self._pool_lock:
            for future in self._prefetched.values():
                future.cancel()
            self._prefetched.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        self._http.close()

    def __enter__(self) -> OneRosterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------

    def concurrency(self) -> int:
        """Requests allowed in flight now (the profile's peak or off-peak limit)."""
        peak = self._peak
        if peak is None:
            now = datetime.datetime.fromtimestamp(self._clock(), tz=datetime.timezone.utc)
            peak = self.profile.is_peak(now, self.spec.timezone)
        return self.profile.concurrency(peak=peak)

    def _read(self, res: Resource, params: dict[str, Any]) -> Iterator[list[Any]]:
        seen: set[int] = set()  # 64-bit hashes of every sourcedId yielded
        for number in range(self.profile.max_read_passes):
            state = _Pass(number)
            for page in self._pages(res, params, state):
                fresh = []
                add, keep = seen.add, fresh.append
                for obj in page.items:
                    sid = obj.get("sourcedId") if type(obj) is dict else None  # the usual case, inline
                    key = hash(sid) if type(sid) is str and sid and sid == sid.strip() else _identity(obj)
                    if key in seen:
                        continue
                    add(key)
                    keep(obj)
                state.add(len(page.items), len(fresh))
                self.stats.add(pages=1, records=len(fresh), duplicates=len(page.items) - len(fresh))
                if fresh:
                    yield fresh
            if state.settled():
                return
            self.stats.add(rereads=1)
            log.info("%s changed while it was read (%d records, totals %s); reading it again",
                     res.name, state.records, sorted(state.totals))
        raise state.failure(where(f"{self.api_root}/{res.name}"))

    def _pages(self, res: Resource, params: dict[str, Any], state: _Pass) -> Iterator[Page]:
        """One pass over a collection, page by page in offset order, later pages fetched ahead."""
        url = f"{self.api_root}/{res.name}"
        limit = self.concurrency()
        self._in_flight.set_limit(limit)
        pager = OffsetPaging(limit=self.profile.page_size, max_pages=self.profile.max_pages, what=where(url))
        pending: dict[int, Future[httpx.Response]] = {}
        abandoned = threading.Event()  # tells background retries of this pass to give up
        offset, previous = 0, None
        try:
            while True:
                if pager.cursor is not None:
                    response = self._get(str(pager.cursor), None)
                else:
                    future = pending.pop(offset, None)
                    if future is None and offset == 0:
                        first_url, first = self._first_page(res, params)
                        with self._pool_lock:
                            future = self._prefetched.pop((first_url, tuple(sorted(first.items()))), None)
                        if future is not None and pager.limit != first["limit"]:
                            future.cancel()
                            future = None
                    if future is None:
                        future = self._submit(url, {**params, "limit": pager.limit, "offset": offset}, abandoned)
                    for ahead in pager.ahead(offset, limit):
                        if ahead not in pending:
                            pending[ahead] = self._submit(
                                url, {**params, "limit": pager.limit, "offset": ahead}, abandoned)
                    response = future.result()
                page = self._page(response, res, offset)
                nxt = pager.advance(page)
                state.totals = pager.totals
                signature = _signature(page.items)
                if signature is not None and signature == previous and nxt is not None:
                    raise InvalidResponse(
                        f"{where(url)} returned the same page again at offset {offset}: it seems to ignore offset",
                        fix="Report to the vendor that offset paging does not work.")
                previous = signature
                if nxt is not None and pager.cursor is None:  # ask for what follows before the caller reads this page
                    for ahead in (nxt, *pager.ahead(nxt, limit - 1)):
                        if ahead not in pending:
                            pending[ahead] = self._submit(
                                url, {**params, "limit": pager.limit, "offset": ahead}, abandoned)
                yield page
                if nxt is None:
                    return
                for stale in [o for o in pending if o < nxt]:
                    pending.pop(stale).cancel()
                offset = nxt
        finally:
            abandoned.set()
            for future in pending.values():
                future.cancel()

    def _page(self, response: httpx.Response, res: Resource, offset: int) -> Page:
        body = decode_body(response)
        items = page_items(body, res, place=where(response.request.url))
        next_link = response.links.get("next", {}).get("url")
        next_url = None
        if next_link:
            next_url = response.request.url.join(next_link)
            if (next_url.scheme, next_url.host, next_url.port) != (
                response.request.url.scheme, response.request.url.host, response.request.url.port
            ):
                raise InvalidResponse(
                    f"{where(response.request.url)}: the next-page link points at another host ({next_url.host})",
                    fix="rostersync does not send credentials to another host; report this to the vendor.")
        return Page(offset, items, total_count(response), next_url, "link" in response.headers)

    # -- HTTP with retries ---------------------------------------------------

    def _submit(self, url: str, params: dict[str, Any], abandoned: threading.Event) -> Future[httpx.Response]:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.profile.max_in_flight, thread_name_prefix="rostersync-read")
            return self._pool.submit(self._get, url, params, abandoned)

    def _timed_sleep(self, seconds: float) -> None:
        self.stats.add(seconds_waited=seconds)
        self._sleep(seconds)

    def _get(self, url: str, params: dict[str, Any] | None, abandoned: threading.Event | None = None) -> httpx.Response:
        """GET with retries on transient failures; returns a 2xx response or raises a SourceError."""
        waited = 0.0
        attempt = 0
        while True:
            if abandoned is not None and abandoned.is_set():
                raise _Abandoned()
            attempt += 1
            waited += self._gate.wait()
            error: SourceError
            try:
                with self._in_flight:
                    self.stats.add(requests=1)
                    self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight.peak)
                    response = self._http.get(url, params=params)
                # httpx leaves each response in a reference cycle with its spent stream; drop the stream,
                # so a page's body is freed as soon as the page is read, not at the next full collection
                response.stream = _SPENT
                self.stats.add(bytes=len(response.content))
                self.last_date = response.headers.get("date", self.last_date)
                found = error_for_response(response, now=self._clock())
                if found is None:
                    return response
                error = found
            except SourceError as exc:  # raised inside the auth flow (token endpoint)
                error = exc
            except httpx.HTTPError as exc:
                error = error_for_exception(exc, url)
                error.__cause__ = exc
            if not isinstance(error, Transient):
                raise error
            retry_after = getattr(error, "retry_after", None)
            delay = self._backoff.delay(attempt, retry_after)
            if not self._backoff.should_retry(attempt, waited, delay, retry_after):
                log.warning("giving up on %s after %d attempts: %s", where(url), attempt, error)
                raise error
            log.info("%s; retrying in %.1f s (attempt %d)", error, delay, attempt + 1)
            self.stats.add(retries=1)
            if retry_after is not None:
                self._gate.hold_until(self._clock() + delay)
                waited += self._gate.wait()
            else:
                self._timed_sleep(delay)
                waited += delay


_SPENT = httpx.ByteStream(b"")


class _Abandoned(Exception):
    """The read that wanted this page is over; nobody will look at the result."""


def _resource(name: str) -> Resource:
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a OneRoster collection; choose one of {', '.join(RESOURCES)}") from None


def _single(body: dict[str, Any], res: Resource) -> Any:
    for key in (res.single, res.name.rstrip("s"), *res.envelope_keys):
        value = body.get(key)
        if isinstance(value, dict):
            return value
        if isinstance(value, list) and len(value) == 1:
            return value[0]
    return None


def _parsed(objects: Iterator[Any], kind: Kind, version: Version) -> Iterator[Record | RecordError]:
    for obj in objects:
        try:
            yield parse_record(kind, obj, version)
        except RecordError as exc:
            yield exc


def _identity(obj: Any) -> int:
    """What makes a record the same record on another page: the hash of its sourcedId as
    :func:`parse_record` reads it (text, stripped), or of the whole object when it has none."""
    if type(obj) is dict:
        sid = obj.get("sourcedId")
        if type(sid) is str:
            sid = sid.strip()
        elif type(sid) is int or type(sid) is float:
            sid = str(sid).strip()
        if type(sid) is str and sid:
            return hash(sid)
    try:
        return hash(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS))
    except (TypeError, orjson.JSONEncodeError):
        return id(obj)


def _signature(items: list[Any]) -> tuple[Any, Any, int] | None:
    """First and last sourcedIds and the size of a page: equal signatures mean a repeated page."""
    if len(items) < 2 or not isinstance(items[0], dict) or not isinstance(items[-1], dict):
        return None
    return items[0].get("sourcedId"), items[-1].get("sourcedId"), len(items)
