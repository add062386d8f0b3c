"""Registers every handler in one ordered block: the order is the routing table."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from handlers import admin, announce, fallback, onboarding, profile
from handlers.errors import on_error
from handlers.presence import on_any_update


def register_all(app: Any) -> None:
    # 0. Before routing: reachability and a staff member's menu.
    app.add_handler(TypeHandler(Update, on_any_update), group=-1)
    # 1. Onboarding owns /start and every step of a conversation in progress.
    app.add_handler(onboarding.build())
    # 2. Features, each registering its commands and buttons.
    profile.register(app)
    admin.register(app)
    announce.register(app)
    # 3. Whatever nobody claimed: help, unknown commands, stale buttons. Must stay last.
    fallback.register(app)
    app.add_error_handler(on_error)
