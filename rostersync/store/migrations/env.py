"""Alembic environment: migrates the connection handed over in ``config.attributes``.

rostersync never runs Alembic from an ini file; :func:`rostersync.store.migrate`
builds the configuration in code and passes an open connection. Running the
``alembic`` command against a URL is supported too, for developers writing a
revision: ``config.get_main_option("sqlalchemy.url")``.
"""

from alembic import context

from rostersync.store.schema import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from rostersync.store.engine import begin_write, create_engine_for

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (or call rostersync.store.migrate)")
    engine = create_engine_for(url)
    with begin_write(engine) as conn:
        _run(conn)
    engine.dispose()
