"""Storage: SQLite by default, PostgreSQL via DATABASE_URL; versioned migrations."""
from .db import Database, connect

__all__ = ["Database", "connect"]
