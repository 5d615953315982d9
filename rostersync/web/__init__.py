"""The web server: the district intake page and the integration team's dashboard.

Build it with :func:`rostersync.web.app.create_app` (``create_app(settings)``);
``rostersync serve`` does, with :func:`rostersync.web.server.build_server_services`.
See docs/web.md.
"""

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
