"""rostersync: OneRoster rostering sync for education apps."""

__version__ = "0.1.0"
