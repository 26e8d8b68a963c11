"""Alembic environment of the crawl database: runs on the connection that storage.database hands it."""

from storage.migrating import run_migrations
from storage.models import Base

run_migrations(Base.metadata)
