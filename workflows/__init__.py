"""Temporal workflows. ``case.RetirementCase`` is the one long-running workflow per retiree.

Workflow modules are sandbox-clean: they import only ``domain``, ``contracts`` and the activity
definitions (passed through), never the database, the API or logging with I/O.
"""
