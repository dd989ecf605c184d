"""Storage: SQLAlchemy models, engine set-up and migrations (SQLite file or PostgreSQL)."""
