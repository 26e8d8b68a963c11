"""Generated local test sites with manifests: the ground truth crawls are checked against."""

from crawler.testsites.catalog import Catalog, Expected, Served, TestSite, build_catalog
from crawler.testsites.photos import fetch_packaged_photos, photos_present
from crawler.testsites.server import CatalogResource, listen
from policy.errors import PhotosMissingError

__all__ = [
    "Catalog",
    "CatalogResource",
    "Expected",
    "PhotosMissingError",
    "Served",
    "TestSite",
    "build_catalog",
    "fetch_packaged_photos",
    "listen",
    "photos_present",
]
