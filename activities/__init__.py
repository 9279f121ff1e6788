"""Department steps as Temporal activities: one module per department, plus notifications,
the read-model projection and the policy loader.

Each module defines the department system's interface (a Protocol) and an activities class built
with an implementation of it. The default implementations keep the records in the project
database (``db.departments``); an adapter for a department's real HTTP system implements the same
Protocol and is wired in ``worker.py`` instead. Business refusals raise
:class:`activities.errors.DepartmentRefusal`, which reaches the workflow as a non-retryable
``ApplicationError`` and becomes a task for that department's clerk; anything else is retried.
"""
