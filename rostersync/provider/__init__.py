"""Serving OneRoster over any record source (the sandbox, the store's read API).

Public API::

    RecordSource                      the protocol a data source implements
    InMemorySource(data)              a list-backed source
    OneRosterService(source, *, version, max_limit=10000, default_limit=100)
        .handle(path, query, base_url) -> ProviderResponse
    ProviderResponse(status, headers, body)
    create_provider_app(source, *, version, authorize=None, hooks=None, ...)  (provider.asgi)
"""

from .response import ProviderResponse, error_response
from .service import OneRosterService
from .source import InMemorySource, RecordSource

__all__ = ["InMemorySource", "OneRosterService", "ProviderResponse", "RecordSource", "error_response"]
