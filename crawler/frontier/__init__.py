"""Many crawl workers on one run: a shared Redis frontier (scrapy-redis's scheduler and dupefilter), leases.

Without ``FAIRCRAWL_FRONTIER`` nothing here is active and the crawl keeps Scrapy's embedded scheduler.
"""

from crawler.frontier.keys import FrontierKeys, connect, request_key

__all__ = ["FrontierKeys", "connect", "request_key"]
