"""A simulated Infinite Campus district for development, tests and demos.

``rostersync.sandbox.district.generate`` builds one; the provider layer serves it.
"""
