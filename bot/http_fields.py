"""A Bot API request's parameters as one mapping, read the way python-telegram-bot sends
them: the query string, then a JSON object, a form or a multipart body (files included).

Shared by the Zalo bridge and the project's two emulators, which all answer PTB."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def read_fields(request: web.Request) -> dict[str, Any]:
    """The request's fields; ValueError says, in Bot API words, what is wrong with the body."""
    data: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ValueError("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise ValueError("parameters must be a JSON object")
            data.update(body)
        else:
            data.update(await request.post())
    return data
