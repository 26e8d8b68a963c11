"""Alembic environment of the suppression list: runs on the connection that storage.suppression hands it."""

from storage.migrating import run_migrations
from storage.suppression import metadata

run_migrations(metadata)
