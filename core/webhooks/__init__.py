"""Signed webhooks: the product POSTs call events to the company's URLs (WEBHOOKS__URLS).

Events: ``call.ended``, ``call.transferred``, ``call.failed``, ``insights.ready``. ``outbox`` records
and delivers them (a Storage queue, retries with backoff, once per event id and URL); ``signing``
signs them and is the receiver's check; ``events`` builds their bodies.
"""
