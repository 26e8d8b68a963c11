"""Who is crawling: the User-Agent every request carries, naming both product tokens and linking to the bot page.

The page (``docs/bot.md``, published at ``FAIRCRAWL_BOT_INFO_URL``; served by the
test sites at ``http://faircrawl.example/bot``) explains the crawl token and the
faces token, and how to verify a request's signature (Web Bot Auth).
"""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler

from crawler.settings import setting

BOT_PAGE = Path(__file__).resolve().parent.parent / "docs" / "bot.md"
VERSION = "0.1"


def user_agent(settings: object) -> str:
    """``faircrawl/0.1 (+<bot page>; robots.txt tokens: faircrawl, faircrawl-faces)``."""
    token = setting(settings, "FAIRCRAWL_PRODUCT_TOKEN")
    faces = setting(settings, "FAIRCRAWL_FACES_TOKEN")
    return f"{token}/{VERSION} (+{setting(settings, 'FAIRCRAWL_BOT_INFO_URL')}; robots.txt tokens: {token}, {faces})"


class BotIdentity:
    """Sets the User-Agent of every request (replaces Scrapy's UserAgentMiddleware)."""

    def __init__(self, crawler: Crawler) -> None:
        self.user_agent = user_agent(crawler.settings).encode("ascii", "replace")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BotIdentity:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        request.headers[b"User-Agent"] = self.user_agent
