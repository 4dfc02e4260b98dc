"""The gateway's database: its configuration, engines, tables and one Alembic history of every table.

- ``config``: the ``database:`` section of the configuration file (``DatabaseConfig``).
- ``engine``: ``make_engine(url)``, with the settings each backend (SQLite, PostgreSQL) needs.
- ``tables``: every table, in one ``MetaData``: the audit trail, the heartbeats, the API keys, the approvals.
- ``migrate``: bring a database to the newest schema, in place (``migrations/``), or back to an older one.
- ``store``: ``DatabaseStore``, what each blocking store on the database shares (engine, schema, closing).

The audit store, the API keys, the approvals and what comes next (the session trail) keep their tables here and reach
the database through this package. It is at the bottom of the house: it imports nothing else from ``clearance``.
"""
