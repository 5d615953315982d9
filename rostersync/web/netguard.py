"""The network guard, now :mod:`rostersync.netguard` (the workers' webhook deliveries use it too)."""

from ..netguard import (  # noqa: F401 - re-exported for the web server's modules and tests
    AddressRefused,
    GuardedTransport,
    NetPolicy,
    Resolver,
    ResponseTooLarge,
    ResponseTooSlow,
    address_problem,
    check_url,
    guarded_client,
    normalized_hosts,
    preflight,
    system_resolver,
)
