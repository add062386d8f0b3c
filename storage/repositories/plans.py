"""Yearly plans with their targets, and programmes (what a class teaches, at what level)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import NotFound
from bot.text_search import fold
from bot.training import (
    ClassKind,
    NewPlan,
    NewProgramme,
    Plan,
    PlanStatus,
    Programme,
    Target,
)
from storage.schema import plan_targets, plans, programmes
from storage.types import utcnow


def programme_of(row: Any, prefix: str = "") -> Programme:
    """A programme from a row whose columns may carry a prefix (when joined to a class)."""
    return Programme(
        id=getattr(row, f"{prefix}id"),
        code=getattr(row, f"{prefix}code"),
        name=getattr(row, f"{prefix}name"),
        kind=ClassKind(getattr(row, f"{prefix}kind")),
        validity_months=getattr(row, f"{prefix}validity_months"),
    )


class PlanRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, plan: NewPlan) -> int:
        now = utcnow()
        status = PlanStatus.APPROVED if plan.approved_on else PlanStatus.DRAFT
        result = await self.conn.execute(
            plans.insert()
            .values(
                year=plan.year,
                name=plan.name,
                status=status.value,
                approved_on=plan.approved_on,
                approved_by=plan.approved_by,
                created_at=now,
                updated_at=now,
            )
            .returning(plans.c.id)
        )
        plan_id = int(result.scalar_one())
        await self.set_targets(plan_id, plan.targets)
        return plan_id

    async def _targets(self, plan_ids: list[int]) -> dict[int, dict[str, Target]]:
        rows = await self.conn.execute(
            sa.select(plan_targets).where(plan_targets.c.plan_id.in_(plan_ids))
        )
        found: dict[int, dict[str, Target]] = {plan_id: {} for plan_id in plan_ids}
        for row in rows:
            found[row.plan_id][row.kind] = Target(row.classes, row.learners)
        return found

    async def _many(self, where: sa.ColumnElement[bool]) -> list[Plan]:
        rows = (
            await self.conn.execute(sa.select(plans).where(where).order_by(plans.c.year.desc()))
        ).all()
        targets = await self._targets([r.id for r in rows])
        return [
            Plan(
                r.id,
                r.year,
                r.name,
                PlanStatus(r.status),
                r.approved_on,
                r.approved_by,
                targets[r.id],
            )
            for r in rows
        ]

    async def get(self, plan_id: int) -> Plan:
        found = await self._many(plans.c.id == plan_id)
        if not found:
            raise NotFound("error.plan_unknown")
        return found[0]

    async def lock(self, plan_id: int) -> Plan:
        await self.conn.execute(
            sa.select(plans.c.id).where(plans.c.id == plan_id).with_for_update()
        )
        return await self.get(plan_id)

    async def of_year(self, year: int) -> Plan | None:
        found = await self._many(plans.c.year == year)
        return found[0] if found else None

    async def all(self) -> list[Plan]:
        return await self._many(sa.true())

    async def set_targets(self, plan_id: int, targets: Mapping[str, Target]) -> None:
        for kind, target in targets.items():
            updated = await self.conn.execute(
                plan_targets.update()
                .where(plan_targets.c.plan_id == plan_id, plan_targets.c.kind == kind)
                .values(classes=target.classes, learners=target.learners)
            )
            if updated.rowcount == 0:
                await self.conn.execute(
                    plan_targets.insert().values(
                        plan_id=plan_id, kind=kind, classes=target.classes, learners=target.learners
                    )
                )

    async def update(self, plan_id: int, **values: Any) -> None:
        await self.conn.execute(
            plans.update().where(plans.c.id == plan_id).values(updated_at=utcnow(), **values)
        )

    async def approve(self, plan_id: int, on: date, by: str) -> None:
        await self.update(plan_id, status=PlanStatus.APPROVED.value, approved_on=on, approved_by=by)


class ProgrammeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, programme: NewProgramme) -> int:
        result = await self.conn.execute(
            programmes.insert()
            .values(
                code=programme.code,
                name=programme.name,
                name_search=fold(programme.name),
                kind=programme.kind.value,
                validity_months=programme.validity_months,
                created_at=utcnow(),
            )
            .returning(programmes.c.id)
        )
        return int(result.scalar_one())

    async def get(self, programme_id: int) -> Programme:
        row = (
            await self.conn.execute(sa.select(programmes).where(programmes.c.id == programme_id))
        ).first()
        if row is None:
            raise NotFound("error.programme_unknown")
        return programme_of(row)

    async def all(self) -> list[Programme]:
        rows = await self.conn.execute(
            sa.select(programmes).order_by(programmes.c.kind, programmes.c.name)
        )
        return [programme_of(r) for r in rows]

    async def code_taken(self, code: str) -> bool:
        found = await self.conn.execute(sa.select(programmes.c.id).where(programmes.c.code == code))
        return found.first() is not None
