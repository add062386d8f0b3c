"""Which linked accounts may be sent what concerns the record they are linked to."""

from __future__ import annotations

import sqlalchemy as sa

from bot.channels import ZALO_ID_BASE
from bot.domain import PersonSource
from storage.schema import people

#: A roster record claimed by a phone number typed on Zalo, not yet confirmed by its unit
#: heads (Person.typed_link): whoever typed it may be a stranger, so nothing about the
#: record is sent to that account, and none of the record's roles reach it.
TYPED_LINK = sa.and_(
    people.c.source == PersonSource.ROSTER.value,
    people.c.verified.is_(False),
    people.c.telegram_id >= ZALO_ID_BASE,
)

#: Linked, consenting, and not a typed link awaiting its heads: who may be sent the
#: messages about their own record (reminders, digests, requests to decide).
SENDABLE = (
    people.c.telegram_id.is_not(None),
    people.c.consent_at.is_not(None),
    sa.not_(TYPED_LINK),
)
