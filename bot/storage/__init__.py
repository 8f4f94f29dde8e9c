"""Storage: the database (SQLite by default, PostgreSQL for deployments), migrations and the raw file store."""
