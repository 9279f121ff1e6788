"""The department simulator: the six departments' systems and the SMS gateway, as one real HTTP
service in its own process with its own database, speaking the platform's contract
(``contracts.platform``, documented per department in ``contracts/openapi/``).

``make run``, the tests, the demo and the chaos and load runs start it and point the adapters at
it; production has no simulator, only the departments' URLs and secrets. Production code never
imports this package.
"""
