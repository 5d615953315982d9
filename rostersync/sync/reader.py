"""What the sync engine reads from: a small protocol, and the factory for the real client.

A :class:`RosterReader` yields one collection (a name of
``rostersync.oneroster.resources.RESOURCES``, e.g. ``"students"``) as typed
records, with :class:`RecordError` items for records it could not read. It
either yields the whole collection or raises: a ``Terminal`` error ends the
run and changes nothing, any other ``RostersyncError`` fails that collection
only (it is not applied and not reconciled).

A reader may also offer ``read_objects`` (the same records as the JSON values
the provider sent, not parsed) or ``read_pages`` (those values a page at a
time, as lists) and a ``version``; the engine then builds the staged rows of
plain records directly (:mod:`rostersync.sync.fastrows`) and parses only the
others.

``OneRosterClient`` is a RosterReader; so are the fakes the tests use. The
engine gets a :data:`ReaderFactory` that builds a reader for a stored
connection and its decrypted secrets, and calls ``close()`` on the reader
afterwards when it has one.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..oneroster.records import Record, RecordError
from ..source.client import OneRosterClient
from ..source.connection import ConnectionSpec
from ..store.connections import StoredConnection


class RosterReader(Protocol):
    def read(self, resource: str, *, since: datetime.datetime | None = None) -> Iterable[Record | RecordError]:
        """Every record of ``resource`` (modified after ``since``, when given)."""
        ...


ReaderFactory = Callable[[StoredConnection, Mapping[str, Any]], RosterReader]


def client_reader_factory(**client_options: Any) -> ReaderFactory:
    """A factory of ``OneRosterClient`` readers; ``client_options`` go to the client
    (e.g. ``transport=`` to mount the sandbox in-process, ``timeout=``)."""

    def build(connection: StoredConnection, secrets: Mapping[str, Any]) -> RosterReader:
        return OneRosterClient(ConnectionSpec.from_dict(connection.settings, secrets), **client_options)

    return build
