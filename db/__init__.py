"""The project database: the default department systems' records and the cases' read model.

``models`` holds every table, ``session`` makes engines for SQLite (development, demo) and
PostgreSQL (production), ``migrate`` applies the Alembic migrations, ``departments`` implements
the department Protocols of ``activities`` over these tables, ``read_model`` keeps the copy of
each case that lists and inboxes read, and ``seed`` creates department records for tests and the
demo. Nothing here may be imported by workflow code (it does I/O).
"""
