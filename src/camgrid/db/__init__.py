"""Database plumbing: the declarative base, engines and migrations (SQLite by default, PostgreSQL for a city)."""
