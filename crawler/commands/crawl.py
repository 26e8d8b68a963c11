"""`scrapy crawl site`: Scrapy's own command, after the checks `faircrawl crawl` makes.

Both entry points read the same settings module and environment; this makes
them refuse the same things the same way: a setting out of range, a broken
rule pack, an unreadable database or suppression list, a wrong key, an
unwritable image store end with one ``error:`` line and exit status 2, before
anything is fetched.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from crawler.settings import setting
from crawler.startup import preflight
from policy.errors import FaircrawlError


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            preflight(self.settings)
            if setting(self.settings, "FAIRCRAWL_FRONTIER"):  # the checks `faircrawl crawl --frontier` makes
                from crawler.frontier.keys import connect
                from crawler.frontier.launch import check_shared_database
                from crawler.frontier.scheduler import keys_for

                check_shared_database(setting(self.settings, "FAIRCRAWL_DB"))
                connect(setting(self.settings, "FAIRCRAWL_FRONTIER")).close()
                keys_for(self.settings)
        except FaircrawlError as error:
            print(f"error: {error}", file=sys.stderr)
            self.exitcode = 2
            return
        super().run(args, opts)
