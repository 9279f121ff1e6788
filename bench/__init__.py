"""Benchmarks of the service against the raw Temporal engine on the same machine, in one run.

``make bench`` (``python -m bench``) starts its own dev server, worker and API on free ports and
measures throughput, decision latency, cost per case and behaviour at scale; see
``docs/performance.md`` for what each figure means and the figures of the last full run.
"""
