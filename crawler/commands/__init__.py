"""Scrapy commands of this project (COMMANDS_MODULE): ``scrapy crawl`` with faircrawl's start-up checks."""
