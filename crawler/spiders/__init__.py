"""faircrawl's spiders."""
