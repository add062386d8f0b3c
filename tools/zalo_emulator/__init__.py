"""A local Zalo Bot API emulator with scripted users, for the Zalo bridge's tests."""

from tools.zalo_emulator.faults import ZaloFaults, ZaloStats
from tools.zalo_emulator.remote import RemoteZaloEmulator, RemoteZaloUser
from tools.zalo_emulator.server import DEFAULT_TOKEN, ZaloBotApiEmulator
from tools.zalo_emulator.state import BotState, ZaloError
from tools.zalo_emulator.users import ZaloReceived, ZaloUser

__all__ = [
    "DEFAULT_TOKEN",
    "BotState",
    "RemoteZaloEmulator",
    "RemoteZaloUser",
    "ZaloBotApiEmulator",
    "ZaloError",
    "ZaloFaults",
    "ZaloReceived",
    "ZaloStats",
    "ZaloUser",
]
