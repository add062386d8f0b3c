"""A local Telegram Bot API emulator with scripted users, for e2e tests and benchmarks."""

from tools.emulator.faults import Delivery, Faults, FaultSpec, Stats
from tools.emulator.remote import RemoteEmulator, RemoteUser
from tools.emulator.server import DEFAULT_TOKEN, BotApiEmulator
from tools.emulator.state import ApiError, BotState
from tools.emulator.users import Attachment, BotMessage, InlineButton, ReplyButton, ScriptedUser

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
