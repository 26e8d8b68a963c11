"""The registries of the test-site catalog, added to the shipped ones in test-site mode only.

They are ordinary registry files (the same format compliance engineers edit),
so the catalog also shows how the registries are written.
"""

from pathlib import Path

_HERE = Path(__file__).with_name("registry")
TESTSITE_SITE_REGISTRY = _HERE / "sites.yaml"
TESTSITE_TERMS_REGISTRY = _HERE / "terms.yaml"
#: Where the operator of the test crawls is established, unless FAIRCRAWL_OPERATOR_JURISDICTION says otherwise:
#: the catalog's world is run from San Francisco, so each site's own law shows (a real crawl that does not say
#: where its operator is gets UNKNOWN, the strictest).
TESTSITE_OPERATOR = "US-CA"
