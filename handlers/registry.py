"""Registers every handler in one ordered block: the order is the routing table."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, TypeHandler

from handlers import (
    admin,
    announce,
    approval,
    audit_log,
    calendar,
    catalog,
    checkin,
    class_admin,
    class_dialogue,
    class_links,
    class_lists,
    class_sessions,
    fallback,
    imports,
    landing,
    leave,
    nomination,
    onboarding,
    people_search,
    planning,
    profile,
    reminder_settings,
    report,
    results,
    roll_call,
    schedule,
    session_place,
    training_record,
)
from handlers.dialogue import DialogueHandler
from handlers.errors import on_error
from handlers.menus import main_keyboard
from handlers.presence import on_any_update

BEFORE_ROUTING, DIALOGUES, FEATURES = -2, -1, 0


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # 1. Before routing: private chats only, reachability, a staff member's menu.
    app.add_handler(TypeHandler(Update, on_any_update), group=BEFORE_ROUTING)
    # 2. A dialogue in progress takes its person's messages and its own buttons; a command
    #    that ends it goes on to the features.
    app.add_handler(DialogueHandler(app.bot_data.services), group=DIALOGUES)
    # 3. Features: commands and typed buttons. Sign-up owns /start.
    for feature in (
        onboarding, profile, people_search, admin, announce, catalog, schedule, reminder_settings,
        planning, class_admin, class_sessions, session_place, class_dialogue, results, leave,
        checkin, roll_call, training_record, report, audit_log, calendar, class_links,
        class_lists, imports, nomination, approval,
    ):  # fmt: skip
        app.add_handlers(feature.handlers(), group=FEATURES)
    # 4. The main keyboard under the text box: each button runs its command.
    app.add_handler(
        main_keyboard(
            classes=catalog.classes, schedule=schedule.schedule,
            profile=profile.send_profile, help=fallback.send_help, pending=people_search.pending,
            people=people_search.people, announce=announce.start, delivery=announce.delivery_report,
            newclass=class_dialogue.start, attendance=checkin.attendance,
            record=training_record.send_record, report=report.start,
            **{"import": imports.start},
        ),
        group=FEATURES,
    )  # fmt: skip
    # 5. Whatever nobody claimed: help, unknown commands, stale buttons. Must stay last.
    app.add_handlers(fallback.handlers(), group=FEATURES)
    landing.route(
        profile=landing.ignoring_link(profile.send_profile),
        mydata=landing.ignoring_link(profile.send_my_data),
        help=landing.ignoring_link(fallback.send_help),
        ci=checkin.scanned,
        c=class_links.landed,
    )
    landing.tell_newcomers(ci="checkin.newcomer", c="class_links.newcomer")
    app.add_error_handler(on_error)
