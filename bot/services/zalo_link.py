"""A Zalo user joins the person they are on Telegram, proving it with a one-time code.

Zalo cannot share a contact, so a typed phone number proves nothing. When it and the full name
typed after it match a roster record already linked to a Telegram account, that account vouches
for the newcomer: a code is sent to its Telegram chat, and typed back on Zalo. The Zalo account
is then joined to the person (`zalo_accounts.person_id`), and the Telegram chat is told: the
bridge presents the Zalo account to the application as the person's Telegram id from its next
message on, so roles, enrolments and records are the person's.

Only the code's hash is kept; it lasts CODE_TTL and allows MAX_TRIES wrong guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from bot.channels import Channel, channel_of
from bot.clock import Clock
from bot.delivery.model import NewMessage
from bot.domain import AuditAction, MessageKind, Person
from bot.errors import Conflict, InvalidInput, NotFound
from bot.services.notices import notice
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.zalo_accounts import PendingCode, ZaloCodeRepository

CODE_TTL = timedelta(minutes=10)
#: A new code no sooner than this after the last: the person on Telegram is not flooded.
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5
CODE_DIGITS = 6


class _Outcome(StrEnum):
    JOINED = "joined"
    NO_CODE = "no_code"
    EXPIRED = "expired"
    TOO_MANY = "too_many"
    WRONG = "wrong"
    TAKEN = "taken"


def code_hash(chat_id: int, code: str) -> str:
    """The code as stored: salted with the account, so one hash says nothing of another."""
    return hashlib.sha256(f"{chat_id}:{code}".encode()).hexdigest()


def _typed_code(typed: str) -> str | None:
    """Six digits as people type them: "123 456", "123-456"."""
    digits = "".join(c for c in typed if not c.isspace() and c not in "-.")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


class ZaloLinkService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notify: Callable[[], None] = lambda: None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notify = notify  # wakes the outbox sender
        self.on_change = on_change  # drops cached actors

    async def send_code(self, chat_id: int, person_id: int, phone: str) -> None:
        """A new code for the Zalo account `chat_id` (its own number) to join the person
        whose roster record has `phone`, sent to the person's Telegram chat."""
        if channel_of(chat_id) is not Channel.ZALO:
            raise InvalidInput()
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        async with self.db.write() as conn:
            people = PeopleRepository(conn)
            if await people.by_telegram(chat_id) is not None:  # it has a profile of its own
                raise Conflict("error.already_registered")
            person = await people.get(person_id)
            if not _vouches(person, phone):
                raise NotFound()
            codes = ZaloCodeRepository(conn)
            _, _, pending = await codes.lock(chat_id)
            if await codes.holder_of(person.id) is not None:
                raise Conflict("zalo_link.person_has_zalo")
            now = self.clock.now()
            if pending is not None and now < pending.expires_at - CODE_TTL + RESEND_AFTER:
                raise InvalidInput("zalo_link.resend_later")
            expires_at = now + CODE_TTL
            await codes.set_code(chat_id, code_hash(chat_id, code), person.id, expires_at)
            assert person.telegram_id is not None
            await OutboxRepository(conn).add(
                [
                    notice(
                        MessageKind.ZALO_LINK_CODE,
                        f"zalo-code:{chat_id}:{secrets.token_hex(8)}",
                        chat_id=person.telegram_id,
                        person_id=person.id,
                        text_key="zalo_link.code_message",
                        params={"code": code, "minutes": CODE_TTL // timedelta(minutes=1)},
                    )
                ]
            )
        self.notify()

    async def join(self, chat_id: int, typed: str) -> Person:
        """Joins the Zalo account to the person its code was sent to, if `typed` is that
        code; a wrong one counts a try and changes nothing else. Every refusal names what
        to do next."""
        code = _typed_code(typed)
        if code is None:
            raise InvalidInput("zalo_link.code_format")
        now = self.clock.now()
        async with self.db.write() as conn:
            codes = ZaloCodeRepository(conn)
            _, _, pending = await codes.lock(chat_id)
            outcome = _check(pending, code_hash(chat_id, code), now)
            if outcome is _Outcome.WRONG:
                assert pending is not None
                if pending.attempts + 1 >= MAX_TRIES:  # the last try: the code is spent
                    outcome = _Outcome.TOO_MANY
                else:
                    await codes.count_attempt(chat_id)
            if outcome in (_Outcome.EXPIRED, _Outcome.TOO_MANY):
                await codes.clear_code(chat_id)
            elif outcome is _Outcome.JOINED:
                assert pending is not None
                if await codes.join(chat_id, pending.person_id):
                    change = await AuditRepository(conn).record(
                        AuditAction.ZALO_JOINED, actor=chat_id, person_id=pending.person_id
                    )
                    joined = await PeopleRepository(conn).get(pending.person_id)
                    await OutboxRepository(conn).add([_joined_notice(joined, change)])
                else:
                    outcome = _Outcome.TAKEN
                    await codes.clear_code(chat_id)
        if outcome is _Outcome.JOINED:
            self.on_change()
            self.notify()
            return joined
        if outcome is _Outcome.WRONG:
            assert pending is not None
            raise InvalidInput("zalo_link.code_wrong", count=MAX_TRIES - pending.attempts - 1)
        raise {
            _Outcome.NO_CODE: InvalidInput("zalo_link.code_none"),
            _Outcome.EXPIRED: InvalidInput("zalo_link.code_expired"),
            _Outcome.TOO_MANY: InvalidInput("zalo_link.code_too_many"),
            _Outcome.TAKEN: Conflict("zalo_link.person_has_zalo"),
        }[outcome]


def _joined_notice(person: Person, change: int) -> NewMessage:
    """Told in the person's Telegram chat, which vouched with the code: a code typed by
    someone else (read over a shoulder, passed on) must not join a stranger unnoticed.
    Nothing is asked of the unit head: the code proved the account."""
    assert person.telegram_id is not None
    return notice(
        MessageKind.ZALO_JOINED,
        f"zalo-joined:{person.id}:{change}",
        chat_id=person.telegram_id,
        person_id=person.id,
        text_key="zalo_link.joined_notice",
    )


def _vouches(person: Person, phone: str) -> bool:
    """A roster record with this phone, linked to a Telegram account that can vouch."""
    return (
        person.from_roster
        and person.phone == phone
        and person.telegram_id is not None
        and channel_of(person.telegram_id) is Channel.TELEGRAM
    )


def _check(pending: PendingCode | None, typed_hash: str, now: datetime) -> _Outcome:
    if pending is None:
        return _Outcome.NO_CODE
    if now >= pending.expires_at:
        return _Outcome.EXPIRED
    if pending.attempts >= MAX_TRIES:
        return _Outcome.TOO_MANY
    if not hmac.compare_digest(pending.code_hash, typed_hash):
        return _Outcome.WRONG
    return _Outcome.JOINED
