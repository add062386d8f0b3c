"""Which messenger an outbox message goes out on, decided when it is sent.

A row addressed to a Zalo account's number goes through the Zalo bot. A row addressed to a
Telegram chat goes through Telegram, unless its person has joined a Zalo account and chose
otherwise (people.notify_via):

- "telegram": Telegram only, as for everyone without Zalo.
- "zalo": the row is moved to the Zalo account's number and sent from the queue there,
  under Zalo's limits; its outcome (and a later edit of it) are Zalo's.
- both (NULL, the default): the row goes to Telegram, whose outcome decides its state and
  its retries, and a copy is queued once for the Zalo account (its own row, keyed
  "<key>:zalo", outside any batch, retried and marked unreachable on its own: a retry of
  the Telegram row queues nothing more). If Telegram is known to be unreachable, the row
  moves to Zalo instead; if the Zalo account is, no copy is made.

An edit goes only to the chat the row names, which is where the original was sent (a moved
row names the Zalo number). While the Zalo channel is not running in this process, "both"
means Telegram alone, and a row on a Zalo number (or moved there) waits for it: retried
later, never given up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from bot.channels import Channel, NotifyVia, channel_of

#: The outbox's dedup keys hold 200 characters.
_KEY_LIMIT: Final = 200
COPY_SUFFIX: Final = ":zalo"


@dataclass(frozen=True, slots=True)
class JoinedZalo:
    """A Telegram chat's person who has a Zalo account joined, as the router needs them."""

    zalo_chat: int
    notify_via: NotifyVia
    telegram_blocked: bool
    zalo_blocked: bool


@dataclass(frozen=True, slots=True)
class Route:
    """What to do with one message now.

    `channel` None: the chat is known to be unreachable, nothing is sent. `to` is the chat
    as that channel's bot knows it (a joined person's Zalo account is known to the Zalo
    bot by their Telegram id)."""

    channel: Channel | None
    to: int
    move_to: int | None = None
    copy_to: int | None = None


def route(
    chat_id: int,
    *,
    edit: bool = False,
    joined: JoinedZalo | None = None,
    zalo_running: bool = True,
    presented: int | None = None,
) -> Route:
    """`joined`: looked up for a Telegram chat; `presented`: the id the Zalo bot knows a
    Zalo number by (its person's Telegram id once joined)."""
    if channel_of(chat_id) is Channel.ZALO:
        return Route(Channel.ZALO, presented if presented is not None else chat_id)
    telegram = Route(Channel.TELEGRAM, chat_id)
    if joined is None:
        return telegram
    if edit or joined.notify_via is NotifyVia.TELEGRAM:
        return Route(None, chat_id) if joined.telegram_blocked else telegram
    if joined.notify_via is NotifyVia.ZALO or joined.telegram_blocked:
        return Route(Channel.ZALO, chat_id, move_to=joined.zalo_chat)
    if not zalo_running or joined.zalo_blocked:
        return telegram
    return Route(Channel.TELEGRAM, chat_id, copy_to=joined.zalo_chat)


def copy_key(dedup_key: str) -> str:
    """The Zalo copy's key: the same for every attempt of the original, so it is queued
    once; a key too long to extend keeps its start and a digest of the whole."""
    key = dedup_key + COPY_SUFFIX
    if len(key) <= _KEY_LIMIT:
        return key
    digest = hashlib.blake2b(dedup_key.encode(), digest_size=8).hexdigest()
    head = _KEY_LIMIT - len(COPY_SUFFIX) - len(digest) - 1
    return f"{dedup_key[:head]}#{digest}{COPY_SUFFIX}"
