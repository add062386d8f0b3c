"""Domain errors, each with a catalog key so any channel can explain it in the user's language."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user should read; `key` names the text in the message catalogs."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class NotFound(DomainError):
    key = "error.not_found"


class PermissionDenied(DomainError):
    key = "error.forbidden"


class InvalidInput(DomainError):
    key = "error.invalid"


class Conflict(DomainError):
    key = "error.conflict"
