"""The complete schema: every module that puts tables on the shared metadata.

Migrations and schema checks import :data:`metadata` from here, so a table
module added to the store must be imported below to be migrated.
"""

from . import schedule_tables  # noqa: F401  (the scheduler's tables)
from . import web_tables  # noqa: F401  (the web server's tables)
from .tables import metadata

__all__ = ["metadata"]
