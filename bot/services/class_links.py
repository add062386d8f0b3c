"""Classes' deep links for posters and Zalo groups: administrators get, revoke and renew
them (audited, rights checked on every call); anyone's /start resolves a token to its class."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.class_links import ClassLink, is_token, new_token
from bot.clock import Clock
from bot.domain import Actor, AuditAction, Role
from bot.errors import Conflict, NotFound
from bot.services.access import require
from bot.training import ClassStatus, Session, TrainingClass
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.class_links import ClassLinkRepository
from storage.repositories.classes import ClassRepository


@dataclass(frozen=True, slots=True)
class LinkPanel:
    """A class and its link as the office sees them: the live link, or the last one revoked."""

    training_class: TrainingClass
    link: ClassLink | None
    revoked: ClassLink | None = None


@dataclass(frozen=True, slots=True)
class PosterData:
    """What a class's poster shows."""

    training_class: TrainingClass
    sessions: list[Session]
    link: ClassLink


class ClassLinkService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def panel(self, actor: Actor, class_id: int) -> LinkPanel:
        """The class's live link, made on the first ask; once revoked, none until the office
        makes a new one (asking again must not bring a revoked poster back to life)."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            training_class = await ClassRepository(conn).get(class_id)
            latest = await ClassLinkRepository(conn).latest(class_id)
        if latest is not None:
            return _panel(training_class, latest)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).lock(class_id)
            links = ClassLinkRepository(conn)
            latest = await links.latest(class_id)  # another administrator may have been first
            if latest is None:
                _refuse_cancelled(training_class)
                latest = await self._make(conn, actor, class_id)
        return _panel(training_class, latest)

    async def revoke(self, actor: Actor, class_id: int, link_id: int) -> tuple[LinkPanel, bool]:
        """Revokes that link; False, and nothing changed, after a second tap or once the link
        was replaced (the link shown then is not the one the person meant)."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).lock(class_id)
            links = ClassLinkRepository(conn)
            live = await links.live(class_id)
            revoked = live is not None and live.id == link_id
            if live is not None and revoked:
                await links.revoke(live.id, by=actor.telegram_id, at=self.clock.now())
                await AuditRepository(conn).record(
                    AuditAction.CLASS_LINK_REVOKED, actor=actor.telegram_id,
                    class_id=class_id, link_id=live.id,
                )  # fmt: skip
            latest = await links.latest(class_id)
        return _panel(training_class, latest), revoked

    async def renew(self, actor: Actor, class_id: int, replaces: int) -> tuple[LinkPanel, bool]:
        """A new link in place of link `replaces` (0: none was live), which stops working.
        False, and nothing changed, when the live link is no longer that one (a second tap
        of the same button must not revoke the link just made and maybe printed)."""
        require(actor, Role.ADMIN)
        async with self.db.write() as conn:
            training_class = await ClassRepository(conn).lock(class_id)
            links = ClassLinkRepository(conn)
            live = await links.live(class_id)
            if (live.id if live else 0) != replaces:
                return _panel(training_class, await links.latest(class_id)), False
            _refuse_cancelled(training_class)
            if live is not None:
                await links.revoke(live.id, by=actor.telegram_id, at=self.clock.now())
                await AuditRepository(conn).record(
                    AuditAction.CLASS_LINK_REVOKED, actor=actor.telegram_id,
                    class_id=class_id, link_id=live.id,
                )  # fmt: skip
            made = await self._make(conn, actor, class_id)
        return LinkPanel(training_class, made), True

    async def poster(self, actor: Actor, class_id: int) -> PosterData:
        """The class, its sessions and live link, for the printable poster."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.get(class_id)
            link = await ClassLinkRepository(conn).live(class_id)
            sessions = await repo.sessions(class_id)
        if link is None:
            raise Conflict("class_links.none_live")
        _refuse_cancelled(training_class)
        return PosterData(training_class, sessions, link)

    async def resolve(self, token: str) -> TrainingClass:
        """The class a token leads to; refused, saying why, if unknown, revoked or cancelled.
        Open to anyone: what the person may do there is the catalog's to say."""
        if not is_token(token):
            raise NotFound("class_links.unknown")
        async with self.db.read() as conn:
            link = await ClassLinkRepository(conn).by_token(token)
            if link is None:
                raise NotFound("class_links.unknown")
            training_class = await ClassRepository(conn).get(link.class_id)
        if not link.live:  # named, so that the cadre knows what to look for in the catalog
            raise Conflict("class_links.revoked", name=training_class.name,
                           code=training_class.code)  # fmt: skip
        if training_class.status is ClassStatus.CANCELLED:
            raise Conflict("class_links.class_cancelled", name=training_class.name,
                           code=training_class.code)  # fmt: skip
        return training_class

    async def _make(self, conn: AsyncConnection, actor: Actor, class_id: int) -> ClassLink:
        link = await ClassLinkRepository(conn).add(
            class_id, new_token(), by=actor.telegram_id, at=self.clock.now()
        )
        await AuditRepository(conn).record(
            AuditAction.CLASS_LINK_CREATED, actor=actor.telegram_id,
            class_id=class_id, link_id=link.id,
        )  # fmt: skip
        return link


def _panel(training_class: TrainingClass, latest: ClassLink | None) -> LinkPanel:
    if latest is None or latest.live:
        return LinkPanel(training_class, latest)
    return LinkPanel(training_class, None, revoked=latest)


def _refuse_cancelled(training_class: TrainingClass) -> None:
    """A cancelled class gets no new link: it would only lead to "cancelled"."""
    if training_class.status is ClassStatus.CANCELLED:
        raise Conflict("class_links.class_cancelled", name=training_class.name,
                       code=training_class.code)  # fmt: skip
