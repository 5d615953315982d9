"""The OneRoster standard, with no I/O: kinds, records, resources, filters, imsx, CSV."""

from .kinds import SYNC_ORDER, Kind, Version
from .records import GUIDRef, Problem, Record, RecordError, parse_record
from .resources import NESTED_ROUTES, RESOURCES, SYNC_RESOURCES, Resource

__all__ = [
    "GUIDRef", "Kind", "NESTED_ROUTES", "Problem", "RESOURCES", "Record", "RecordError",
    "Resource", "SYNC_ORDER", "SYNC_RESOURCES", "Version", "parse_record",
]
