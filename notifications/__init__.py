"""What the service tells people, and how it reaches them.

A case's workflow records each message in the outbox (``db/outbox.py``, the ``notifications.send``
activity): the text from this package's templates (``templates.toml``, Chinese, one file) and a
delivery per channel. The dispatcher (``notifications.dispatch``, run by the ``MessageDispatch``
workflow) sends the deliveries through the province's SMS platform and the 吉事办 app's push
(``adapters/departments.py``), each once, with retries and backoff; every message is also in
the person's, the organisation's or the queue's message list on their pages. Mobile numbers are
kept sealed with the service's key ring (``contacts.py``) and shown masked.
"""
