"""Downloader middlewares that decide, before every request, whether it may be sent.

All gates share one shape: built by ``from_crawler``, settings read once in
``__init__``, a refusal is recorded as a decision, counted in a slash-named
stat (``consent/refused/<gate>``), logged at debug level and raised as
``IgnoreRequest`` whose message is the reason.
"""
