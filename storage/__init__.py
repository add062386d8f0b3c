"""The database: engine, migrations and repositories. All SQL of the project lives here."""
