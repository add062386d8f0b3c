"""Channel-agnostic business rules. Nothing here imports a messenger library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time, tzinfo

from bot.clock import Clock, SystemClock
from bot.i18n import DEFAULT_TIMEZONE
from bot.office_reminders import DEFAULT_OFFICE_HOURS, DEFAULT_REPORTS, OfficeHours, ReportEntry
from bot.reminders import DEFAULT_EVENING, QuietHours, ReminderPrefs
from bot.services.access import AccessService
from bot.services.approval import ApprovalService
from bot.services.approval_requests import ApprovalPolicy
from bot.services.audit_log import AuditLogService
from bot.services.calendar import CalendarService
from bot.services.catalog import CatalogService
from bot.services.channels import ChannelService
from bot.services.checkin import CheckinService
from bot.services.class_links import ClassLinkService
from bot.services.class_lists import ClassListService
from bot.services.delivery import DeliveryService
from bot.services.dialogues import DialogueStore
from bot.services.digests import DigestConfig, DigestService
from bot.services.directory import DirectoryService
from bot.services.enrolment import EnrolmentService
from bot.services.imports import ImportService
from bot.services.leave import LeaveService
from bot.services.nomination import NominationService
from bot.services.office_reminders import OfficeReminders
from bot.services.people import PeopleService
from bot.services.planning import PlanningService
from bot.services.quiet import Quiet
from bot.services.reminders import ReminderService
from bot.services.reports import ReportService
from bot.services.results import ResultsService
from bot.services.roll_call import RollCallService
from bot.services.training_record import TrainingRecordService
from bot.services.zalo_link import ZaloLinkService
from bot.training import YOUNG_UNDER
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Services:
    """Everything an adapter may call; built once per process."""

    db: Database
    clock: Clock
    people: PeopleService
    access: AccessService
    directory: DirectoryService
    delivery: DeliveryService
    channels: ChannelService
    dialogues: DialogueStore
    planning: PlanningService
    enrolment: EnrolmentService
    catalog: CatalogService
    reminders: ReminderService
    results: ResultsService
    leave: LeaveService
    checkin: CheckinService
    records: TrainingRecordService
    roll_call: RollCallService
    reports: ReportService
    audit_log: AuditLogService
    digests: DigestService
    calendar: CalendarService
    class_links: ClassLinkService
    class_lists: ClassListService
    imports: ImportService
    nomination: NominationService
    approval: ApprovalService
    zalo_link: ZaloLinkService

    @classmethod
    def build(
        cls,
        db: Database,
        *,
        superadmin_ids: frozenset[int],
        clock: Clock | None = None,
        tz: tzinfo = DEFAULT_TIMEZONE,
        evening: time = DEFAULT_EVENING,
        quiet: QuietHours | None = None,
        reports: Sequence[ReportEntry] = DEFAULT_REPORTS,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        young_under: int = YOUNG_UNDER,
        digests: DigestConfig | None = None,
        approval_days: int = 3,
    ) -> Services:
        # The importers check cells with this package's rules (planning): imported once it is.
        from bot.imports.kinds import importers

        clock = clock or SystemClock()
        defaults = ReminderPrefs(quiet=quiet or QuietHours())
        held = Quiet(tz, defaults)
        delivery = DeliveryService(db, clock, tz)
        access = AccessService(db, superadmin_ids, notify=delivery.wake)
        policy = ApprovalPolicy(approval_days, superadmin_ids, tz)
        enrolment = EnrolmentService(
            db, clock, tz, notify=delivery.wake, reminder_defaults=defaults, approval=policy
        )
        return cls(
            db=db,
            clock=clock,
            people=PeopleService(
                db,
                clock,
                notify=delivery.wake,
                on_change=access.changed,
                superadmin_ids=superadmin_ids,
            ),
            access=access,
            directory=DirectoryService(db),
            delivery=delivery,
            channels=ChannelService(db, clock),
            dialogues=DialogueStore(db, clock),
            planning=PlanningService(db, clock, tz),
            enrolment=enrolment,
            catalog=CatalogService(db, clock, tz),
            reminders=ReminderService(
                db,
                clock,
                tz,
                evening=evening,
                defaults=defaults,
                notify=delivery.wake,
                office=OfficeReminders(tz, superadmin_ids, reports, office_hours),
            ),
            results=ResultsService(db, clock, tz),
            leave=LeaveService(db, clock, superadmin_ids, notify=delivery.wake, quiet=held),
            checkin=CheckinService(db, clock, tz),
            records=TrainingRecordService(db, clock, tz),
            roll_call=RollCallService(db, clock, notify=delivery.wake, quiet=held),
            reports=ReportService(db, clock, tz, young_under),
            audit_log=AuditLogService(db, clock, tz),
            digests=DigestService(
                db,
                clock,
                tz,
                ReportService(db, clock, tz, young_under),
                access,
                digests,
                defaults=defaults,
                notify=delivery.wake,
            ),
            calendar=CalendarService(db, clock, tz, defaults),
            class_links=ClassLinkService(db, clock),
            class_lists=ClassListService(db, clock, tz, young_under),
            imports=ImportService(db, importers(clock, tz)),
            nomination=NominationService(
                db, clock, tz, enrolment, notify=delivery.wake, reminder_defaults=defaults
            ),
            approval=ApprovalService(
                db,
                clock,
                enrolment,
                policy,
                hours=office_hours,
                defaults=defaults,
                notify=delivery.wake,
            ),
            zalo_link=ZaloLinkService(db, clock, notify=delivery.wake, on_change=access.changed),
        )
