"""Reading a district: everything that talks to a OneRoster provider.

* :mod:`rostersync.source.errors`: the source layer's error tree (what went
  wrong talking to a provider, whether a retry can help, and a plain-language
  fix);
* :mod:`rostersync.source.auth`: ``httpx.Auth`` flows for OAuth 2.0 client
  credentials and two-legged OAuth 1.0a request signing;
* the paging REST client, vendor profiles, connection checks and CSV packages
  as a source live alongside them.

Every HTTP call goes through one ``httpx.Client`` whose transport tests can
replace; nothing here builds a client at import time.
"""
