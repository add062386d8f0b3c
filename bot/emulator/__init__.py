"""A local Telegram Bot API emulator with scripted users, for e2e tests and benchmarks."""

from bot.emulator.faults import Delivery, Faults, FaultSpec, Stats
from bot.emulator.remote import RemoteEmulator, RemoteUser
from bot.emulator.server import DEFAULT_TOKEN, BotApiEmulator
from bot.emulator.state import ApiError, BotState
from bot.emulator.users import Attachment, BotMessage, InlineButton, ReplyButton, ScriptedUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Attachment",
    "BotApiEmulator",
    "BotMessage",
    "BotState",
    "Delivery",
    "FaultSpec",
    "Faults",
    "InlineButton",
    "RemoteEmulator",
    "RemoteUser",
    "ReplyButton",
    "ScriptedUser",
    "Stats",
]
