"""The typed messages exchanged by the API, the workflow and the department activities.

Pure pydantic models over ``domain`` types: no I/O, safe to import inside the workflow sandbox.
Everything that crosses a Temporal boundary (workflow input, updates, queries, activity
arguments and results) is defined here, so the three sides cannot drift apart.
"""
