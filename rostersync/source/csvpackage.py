"""A OneRoster CSV package (a .zip file or a folder) as a roster source.

:class:`CsvPackage` reads like the REST client: ``read(resource, since=)``
yields typed records, or :class:`~rostersync.oneroster.records.RecordError`
items for rows that could not be read, for the REST resource names of the
sync (``students`` and ``teachers`` select users by primary role). Every
finding, down to file, line and column, is kept in ``problems``.

Hostile input is refused without harming the machine: zip entries are never
extracted to disk, only streamed; entries with unsafe paths (``../``,
absolute) are ignored; declared sizes, compression ratios and the bytes
actually inflated are bounded (:class:`Limits`); lines are bounded before the
csv module sees them; folders are read without following symbolic links.
For 1.2.1 packages, roles.csv and userProfiles.csv are indexed by user in a
temporary SQLite file, so memory stays flat however large the district.

    CsvPackageError (SourceError)
    +-- PackageUnreadable  [Terminal]    not a package, corrupt, not UTF-8 text, no header
    |   +-- PackageTooLarge              a size bound was hit (zip bomb?)
    +-- FileNotInPackage                 a bulk package lacks the resource's file; only
                                         that collection fails (in a delta package an
                                         absent file means no changes: nothing is read)
"""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from rostersync.errors import Terminal
from rostersync.oneroster.csvbinding import (
    FILE_FOR_KIND,
    FILES,
    CsvFormatError,
    Finding,
    Manifest,
    Mode,
    Row,
    RowReader,
    canonical_file,
    parse_datetime,
    parse_manifest,
    profile_entry,
    role_entry,
)
from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.records import Record, RecordError, parse_record
from rostersync.oneroster.resources import RESOURCES
from rostersync.source.errors import SourceError

MiB = 1 << 20


class CsvPackageError(SourceError):
    """The OneRoster CSV package cannot be read."""

    default_fix = "Export the OneRoster CSV files again (UTF-8, with manifest.csv) and upload the new package."


class PackageUnreadable(CsvPackageError, Terminal):
    """The OneRoster CSV package, or one of its files, cannot be read."""


class PackageTooLarge(PackageUnreadable):
    """The CSV package is larger than allowed (it may be a zip bomb)."""


class FileNotInPackage(CsvPackageError):
    """The CSV package has no file for this resource (the rest of the package can still be read)."""

    default_fix = "Include the file in the export, or leave this resource out of the sync."


class CsvRecordError(RecordError):
    """A CSV row that could not be read; ``finding`` says where and why."""

    def __init__(self, finding: Finding, *, kind: Kind) -> None:
        self.finding = finding
        super().__init__(str(finding), kind=kind)


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile package from exhausting the machine."""

    max_file_bytes: int = 2048 * MiB  # one CSV file, uncompressed
    max_total_bytes: int = 8192 * MiB  # every CSV file read, uncompressed; also the .zip itself
    max_ratio: int = 200  # uncompressed / compressed, for entries larger than ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MiB
    max_entries: int = 10_000  # entries in a zip
    max_line_bytes: int = 8 * MiB  # one physical line
    max_problems_per_file: int = 1_000  # findings kept per file; the rest are counted


_UNSAFE = re.compile(r"(^[/\\])|(^[A-Za-z]:)|(^|[/\\])\.\.([/\\]|$)")


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class _Counted(io.RawIOBase):
    """A binary stream that refuses to yield more than ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int, name: str) -> None:
        self.inner, self.limit, self.name, self.count = inner, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise PackageTooLarge(f"{self.name} expands beyond {_human(self.limit)}; reading stopped")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


class _Container:
    """The files of a package: a zip or a folder, found one level deep at most."""

    def __init__(self, path: Path, limits: Limits, report: Callable[[Finding], None]) -> None:
        self.limits, self.report = limits, report
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}  # canonical stem (or "manifest") -> member / relative path
        self.root = path
        try:
            if path.is_dir():
                self._scan_folder(path)
            else:
                self._scan_zip(path)
        except BaseException:
            self.close()
            raise

    # -- zip ---------------------------------------------------------------
    def _scan_zip(self, path: Path) -> None:
        size = path.stat().st_size
        if size > self.limits.max_total_bytes:
            raise PackageTooLarge(f"{path.name} is {_human(size)}, over the "
                                  f"{_human(self.limits.max_total_bytes)} limit")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise PackageUnreadable(f"{path.name} is not a readable zip file ({type(exc).__name__})") from exc
        infos = self.zip.infolist()
        if len(infos) > self.limits.max_entries:
            raise PackageTooLarge(f"{path.name} has {len(infos)} entries (at most {self.limits.max_entries})")
        entries: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if info.is_dir() or name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("._"):
                continue
            if _UNSAFE.search(name) or "\x00" in name:
                self.report(Finding(name[:200], None, None, "zip entry with an unsafe path (absolute or ../); "
                                    "ignored", "error"))
                continue
            entries[name] = info
        self._choose(list(entries), path.name)
        total = 0
        for stem, name in self.members.items():
            info = entries[name]
            if info.flag_bits & 0x1:
                raise PackageUnreadable(f"{name} is encrypted in the zip; upload a zip without a password")
            if info.file_size > self.limits.max_file_bytes:
                raise PackageTooLarge(f"{name} would expand to {_human(info.file_size)}, over the "
                                      f"{_human(self.limits.max_file_bytes)} limit per file")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > self.limits.ratio_floor_bytes and ratio > self.limits.max_ratio:
                raise PackageTooLarge(f"{name} would expand {ratio:.0f} times (from {_human(info.compress_size)} "
                                      f"to {_human(info.file_size)}); refusing a likely zip bomb")
            total += info.file_size
        if total > self.limits.max_total_bytes:
            raise PackageTooLarge(f"the CSV files would expand to {_human(total)}, over the "
                                  f"{_human(self.limits.max_total_bytes)} limit")

    # -- folder ------------------------------------------------------------
    def _scan_folder(self, path: Path) -> None:
        names: list[str] = []
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            if entry.is_symlink():
                self.report(Finding(entry.name, None, None, "a symbolic link; ignored", "error"))
            elif entry.is_file(follow_symlinks=False):
                names.append(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    if sub.is_file(follow_symlinks=False) and not sub.is_symlink():
                        names.append(f"{entry.name}/{sub.name}")
        self._choose(names, path.name)

    # -- both --------------------------------------------------------------
    def _choose(self, names: list[str], label: str) -> None:
        """Pick the folder holding manifest.csv (top or one level down) and its OneRoster files."""
        by_dir: dict[str, list[str]] = {}
        for name in names:
            parent, _, base = name.rpartition("/")
            if parent.count("/") == 0:
                by_dir.setdefault(parent, []).append(name)
        def has_manifest(d: str) -> bool:
            return any(n.rpartition("/")[2].lower() == "manifest.csv" for n in by_dir.get(d, ()))
        def has_csv(d: str) -> bool:
            return any(canonical_file(n.rpartition("/")[2]) for n in by_dir.get(d, ()))
        candidates = [d for d in by_dir if has_manifest(d)] or [d for d in by_dir if has_csv(d)]
        if "" in candidates:
            root = ""
        elif len(candidates) == 1:
            root = candidates[0]
        elif not candidates:
            raise PackageUnreadable(f"{label} has no OneRoster CSV files (manifest.csv, users.csv, ...) at the top "
                                  "or one folder down")
        else:
            raise PackageUnreadable(f"{label} holds several OneRoster packages ({', '.join(sorted(candidates)[:5])}); "
                                  "upload one at a time")
        for name in by_dir[root]:
            base = name.rpartition("/")[2]
            stem = "manifest" if base.lower() == "manifest.csv" else canonical_file(base)
            if stem is None or not base.lower().endswith(".csv"):
                continue
            if stem in self.members:
                self.report(Finding(name, None, None, f"a second file for {stem}; ignored in favour of "
                                    f"{self.members[stem]}", "error"))
                continue
            self.members[stem] = name

    def open(self, stem: str) -> IO[bytes]:
        name = self.members[stem]
        limit = self.limits.max_file_bytes
        try:
            if self.zip is not None:
                raw: IO[bytes] = self.zip.open(name)
            else:
                full = self.root / name
                if full.stat().st_size > limit:
                    raise PackageTooLarge(f"{name} is {_human(full.stat().st_size)}, over the "
                                          f"{_human(limit)} limit per file")
                raw = open(full, "rb")  # noqa: SIM115 - closed by the caller
        except (OSError, NotImplementedError, RuntimeError, zipfile.BadZipFile) as exc:
            raise PackageUnreadable(f"{name} cannot be opened ({type(exc).__name__})") from exc
        return io.BufferedReader(_Counted(raw, limit, name), buffer_size=64 * 1024)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _lines(stream: IO[bytes], name: str, max_line: int, on_long: Callable[[Finding], None]) -> Iterator[str]:
    """Physical lines decoded as UTF-8 (a BOM dropped, bad bytes kept as surrogate escapes), length-bounded."""
    head = stream.peek(4)[:4]  # type: ignore[attr-defined]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvFormatError(Finding(name, 1, None, "the file is UTF-16; save it as UTF-8 (CSV UTF-8)", "error"))
    if head[:3] == b"\xef\xbb\xbf":
        stream.read(3)
    number = 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            while (chunk := stream.readline(MiB)) and not chunk.endswith(b"\n"):
                pass
            on_long(Finding(name, number, None, f"the line is longer than {_human(max_line)}; row skipped", "error"))
            line = b"\n"
        yield line.decode("utf-8", "surrogateescape")


class _UserLinks:
    """roles.csv and userProfiles.csv, indexed by user sourcedId in a temporary SQLite file."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TABLE link (user TEXT NOT NULL, what TEXT NOT NULL, body BLOB NOT NULL)")
        self.lock = threading.Lock()

    def add(self, rows: Iterator[tuple[str, str, bytes]]) -> None:
        with self.lock, self.db:
            self.db.executemany("INSERT INTO link VALUES (?, ?, ?)", rows)

    def finish(self) -> None:
        with self.lock, self.db:
            self.db.execute("CREATE INDEX link_user ON link (user)")

    def get(self, user: str) -> tuple[list[Any], list[Any]]:
        roles: list[Any] = []
        profiles: list[Any] = []
        with self.lock:
            for what, body in self.db.execute("SELECT what, body FROM link WHERE user = ? ORDER BY rowid", (user,)):
                (roles if what == "role" else profiles).append(orjson.loads(body))
        return roles, profiles

    def close(self) -> None:
        self.db.close()


class CsvPackage:
    """An open OneRoster CSV package; use :meth:`open`, then ``read`` and ``close`` (or ``with``)."""

    def __init__(self, container: _Container, manifest: Manifest, modes: dict[str, Mode],
                 problems: _Problems) -> None:
        self._container = container
        self.manifest = manifest
        self._modes = modes  # stem -> mode it is read in, for every file present and not absent
        self._delta = _is_delta(manifest)
        self._problems = problems
        self._links: _UserLinks | None = None
        self._links_lock = threading.Lock()
        self._tmp: str | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, limits: Limits | None = None) -> CsvPackage:
        """Open a .zip file or a folder; raises :class:`CsvPackageError` when it cannot be a package."""
        path = Path(path)
        limits = limits or Limits()
        problems = _Problems(limits.max_problems_per_file)
        if not path.exists():
            raise PackageUnreadable(f"{path.name} does not exist", fix="Check the path to the CSV package.")
        if not path.is_dir() and not path.is_file():
            raise PackageUnreadable(f"{path.name} is neither a .zip file nor a folder")
        container = _Container(path, limits, problems.add)
        try:
            manifest, modes = cls._manifest(container, limits, problems)
        except BaseException:
            container.close()
            raise
        return cls(container, manifest, modes, problems)

    @staticmethod
    def _manifest(container: _Container, limits: Limits, problems: _Problems) -> tuple[Manifest, dict[str, Mode]]:
        present = {stem for stem in container.members if stem != "manifest"}
        fallback = Version.V1P2 if "roles" in present else Version.V1P1
        if "manifest" not in container.members:
            problems.add(Finding("manifest.csv", None, None, "no manifest.csv; read as a OneRoster "
                                 f"{fallback.value} bulk package"))
            return Manifest(fallback, dict.fromkeys(present, "bulk"), declared=False), dict.fromkeys(present, "bulk")
        name = container.members["manifest"]
        with container.open("manifest") as stream:
            try:
                lines = _lines(stream, name, limits.max_line_bytes, problems.add)
                manifest = parse_manifest(lines, report=problems.add, fallback_version=fallback, file=name)
            except CsvFormatError as exc:
                raise PackageUnreadable(str(exc.finding)) from exc
        default: Mode = "delta" if _is_delta(manifest) else "bulk"  # for files listed without a valid mode
        modes: dict[str, Mode] = {}
        for stem in sorted(FILES):
            mode = manifest.mode(stem)
            if stem in present:
                member = container.members[stem]
                if mode == "absent":
                    problems.add(Finding(name, None, f"file.{stem}", f"says absent but {member} is present; "
                                         "the file was not read"))
                    continue
                if mode is None:
                    why = "is not listed" if stem not in manifest.files else "has no valid value"
                    problems.add(Finding(name, None, f"file.{stem}", f"{why}; {member} read as {default}"))
                modes[stem] = mode or default
            elif mode in ("bulk", "delta"):
                problems.add(Finding(name, None, f"file.{stem}", f"says {mode} but the package has no "
                                     f"{stem}.csv", "error"))
        return manifest, modes

    # -- reading -----------------------------------------------------------
    @property
    def problems(self) -> list[Finding]:
        """Every finding so far, in the order found (capped per file, with a count of the rest)."""
        return self._problems.all()

    @property
    def files(self) -> dict[str, str]:
        """Canonical file stem -> the file's name inside the package, for the files that are read."""
        return {stem: self._container.members[stem] for stem in self._modes}

    def has(self, resource: str) -> bool:
        """True when the package carries the file that ``resource`` is read from."""
        return _resource(resource)[1] in self._modes

    def mode(self, resource: str) -> Mode | None:
        """How the file behind ``resource`` is read: ``bulk`` (a full snapshot) or ``delta``; None if absent."""
        return self._modes.get(_resource(resource)[1])

    def read(self, resource: str, *, since: datetime.datetime | str | None = None) -> Iterator[Record | RecordError]:
        """Stream the records of a REST resource (``orgs``, ``students``, ...), newer than ``since`` if given.

        Rows that cannot be read are yielded as :class:`CsvRecordError`; a file
        that breaks off (corrupt, too large) raises :class:`PackageUnreadable`; a
        file the package lacks raises :class:`FileNotInPackage` (a delta package
        without it yields nothing: no changes).
        """
        res, stem = _resource(resource)
        if stem not in self._modes:
            if self._delta and stem not in self._container.members:
                return iter(())  # a delta package without the file: nothing changed
            if stem in self._container.members:
                raise FileNotInPackage(f"manifest.csv marks {stem}.csv absent (needed for {resource})")
            raise FileNotInPackage(f"the package has no {stem}.csv (needed for {resource})")
        cutoff = _cutoff(since)
        return self._read(res.kind, stem, res.select, cutoff)

    def _read(self, kind: Kind, stem: str, select: tuple[str, str] | None,
              cutoff: datetime.datetime | None) -> Iterator[Record | RecordError]:
        version = self.manifest.version
        links = self._user_links() if kind is Kind.USER and version is Version.V1P2 else None
        spec = FILES[stem]
        for item, header_missing in self._rows(stem):
            if isinstance(item, Finding):
                yield CsvRecordError(item, kind=kind)
                continue
            obj = item.record
            if links is not None:
                roles, profiles = links.get(item.sourced_id)
                if roles:
                    obj["roles"] = roles
                    if not any(r.get("roleType") == "primary" for r in roles):
                        self._problems.add(Finding(item.file, item.line, None, "roles.csv gives this user no "
                                                   "primary role"))
                if profiles:
                    obj["userProfiles"] = profiles
            try:
                record = parse_record(kind, obj, version)
            except RecordError as exc:
                finding = Finding(item.file, item.line, "sourcedId", f"{exc}; row skipped", "error")
                self._problems.add(finding)
                yield CsvRecordError(finding, kind=kind)
                continue
            for p in record.problems:
                column = spec.column_for_field(p.field)
                if p.message == "is missing" and column in header_missing:
                    continue
                if kind is Kind.USER and p.field == "roles" and p.message == "is missing":
                    p_msg, column = "no row of roles.csv names this user", None
                else:
                    p_msg = p.message
                self._problems.add(Finding(item.file, item.line, column, p_msg, "error" if p.severe else "warning"))
            if select is not None and _value(record, select[0]) != select[1]:
                continue
            if cutoff is not None and record.date_last_modified:
                modified = parse_datetime(record.date_last_modified)
                if modified is not None and modified <= cutoff:
                    continue
            yield record

    def _rows(self, stem: str) -> Iterator[tuple[Row | Finding, frozenset[str]]]:
        """Rows of one file; skipped rows and over-long lines come as error findings (also recorded)."""
        name = self._container.members[stem]
        pending: list[Finding] = []
        limits = self._container.limits
        reader: RowReader | None = None
        try:
            with self._container.open(stem) as stream:
                reader = RowReader(_lines(stream, name, limits.max_line_bytes, pending.append), spec=FILES[stem],
                                   version=self.manifest.version, mode=self._modes[stem], file=name,
                                   report=self._problems.add)
                for item in reader:
                    for finding in pending:
                        self._problems.add(finding)
                        yield finding, reader.missing
                    pending.clear()
                    if isinstance(item, Finding):
                        self._problems.add(item)
                    yield item, reader.missing
                for finding in pending:
                    self._problems.add(finding)
                    yield finding, reader.missing
        except CsvFormatError as exc:
            self._problems.add(exc.finding)
            raise PackageUnreadable(str(exc.finding)) from exc
        except CsvPackageError as exc:  # too large, or cannot be opened
            self._problems.add(Finding(name, None, None, str(exc), "error"))
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            line = reader.line if reader is not None else None
            finding = Finding(name, line, None, f"the file is corrupt or unreadable ({type(exc).__name__}) "
                              "here; the rest of it was not read", "error")
            self._problems.add(finding)
            raise PackageUnreadable(str(finding)) from exc

    def _user_links(self) -> _UserLinks | None:
        """Index roles.csv and userProfiles.csv once; None when the package has neither."""
        with self._links_lock:
            if self._links is not None or not ({"roles", "userProfiles"} & self._modes.keys()):
                return self._links
            self._tmp = tempfile.mkdtemp(prefix="rostersync-csv-")
            links = _UserLinks(Path(self._tmp) / "links.sqlite")
            try:
                for stem, what, entry in (("roles", "role", role_entry), ("userProfiles", "profile", profile_entry)):
                    if stem not in self._modes:
                        continue
                    try:
                        links.add(self._link_rows(stem, what, entry))
                    except CsvPackageError:
                        if stem == "roles":
                            raise  # a 1.2 user without roles is not a user we can sync
            except BaseException:
                links.close()
                raise
            links.finish()
            self._links = links
            return links

    def _link_rows(self, stem: str, what: str, entry: Callable[[dict], dict]) -> Iterator[tuple[str, str, bytes]]:
        for item, _ in self._rows(stem):
            if isinstance(item, Finding) or item.record.get("status") == "tobedeleted":
                continue
            user = item.record.get("user", {}).get("sourcedId")
            if not user:
                self._problems.add(Finding(item.file, item.line, "userSourcedId", "no userSourcedId; row skipped",
                                           "error"))
                continue
            yield user, what, orjson.dumps(entry(item.record))

    def close(self) -> None:
        """Release the zip and the temporary index."""
        with self._links_lock:
            if self._links is not None:
                self._links.close()
                self._links = None
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
        self._container.close()

    def __enter__(self) -> CsvPackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Problems:
    """Findings, de-duplicated (files are read more than once) and capped per file."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[Finding] = []
        self.seen: set[Finding] = set()
        self.overflow: set[int] = set()  # hashes of findings past the cap, so re-reads are not counted twice
        self.per_file: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, finding: Finding) -> None:
        with self.lock:
            if finding in self.seen or hash(finding) in self.overflow:
                return
            count = self.per_file.get(finding.file, 0) + 1
            self.per_file[finding.file] = count
            if count <= self.cap:
                self.seen.add(finding)
                self.items.append(finding)
            elif len(self.overflow) < 1_000_000:
                self.overflow.add(hash(finding))

    def all(self) -> list[Finding]:
        with self.lock:
            out = list(self.items)
            for file, count in self.per_file.items():
                if count > self.cap:
                    out.append(Finding(file, None, None, f"{count - self.cap} more findings not listed", "warning"))
            return out


def _is_delta(manifest: Manifest) -> bool:
    """True when every file the manifest lists as bulk or delta is delta."""
    listed = [m for m in manifest.files.values() if m in ("bulk", "delta")]
    return bool(listed) and all(m == "delta" for m in listed)


def _resource(resource: str) -> tuple[Any, str]:
    res = RESOURCES.get(resource)
    if res is None:
        raise ValueError(f"unknown OneRoster resource {resource!r}")
    return res, FILE_FOR_KIND[res.kind]


def _value(record: Record, field: str) -> Any:
    return getattr(record, field, None)


def _cutoff(since: datetime.datetime | str | None) -> datetime.datetime | None:
    if since is None:
        return None
    if isinstance(since, str):
        parsed = parse_datetime(since)
        if parsed is None:
            raise ValueError(f"since {since!r} is not an ISO 8601 date-time")
        return parsed
    return since if since.tzinfo else since.replace(tzinfo=datetime.timezone.utc)
