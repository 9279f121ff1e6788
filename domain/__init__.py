"""Pure retirement rules for Jilin's "retirement as one thing" service.

Everything in this package is deterministic: no I/O, no clock, no logging. Callers pass
the policy (``domain.policy.Policy``) and, where a rule needs it, "today". That is what lets the
Temporal workflow import these rules inside its sandbox and replay them years later.
"""
