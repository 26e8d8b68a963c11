"""faircrawl's Scrapy project and its entry points (CLI, demo, reports)."""
