"""Repositories: each wraps a connection inside a transaction the service owns."""
