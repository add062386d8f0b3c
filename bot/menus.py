"""Which commands each role sees in Telegram's command menu (descriptions are catalog keys)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import Role

#: Plans, programmes and classes: administrators only.
TRAINING_OFFICE = ("plan", "programmes", "newclass", "classadmin")
LEARNER_COMMANDS = (
    "start", "classes", "schedule", "checkin", "leave", "record", "settings", "profile", "mydata",
    "language", "help",
)  # fmt: skip
#: What the training office does from the chat: administrators and super-administrators.
OFFICE_COMMANDS = (
    "pending", "people", "announce", "delivery", *TRAINING_OFFICE, "attendance", "report",
    "approvals", "audit", "import",
)  # fmt: skip
STAFF_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.LECTURER: ("attendance",),
    Role.UNIT_HEAD: (
        "pending",
        "people",
        "announce",
        "delivery",
        "report",
        "approvals",
        "nominated",
    ),
    Role.ADMIN: OFFICE_COMMANDS,
    Role.SUPERADMIN: OFFICE_COMMANDS,
}


#: The commands on the main keyboard under the text box, in its order: what people do most.
MAIN_KEYBOARD = (
    "classes", "schedule", "profile", "help", "pending", "people", "announce", "delivery",
    "newclass", "attendance", "record", "report", "import",
)  # fmt: skip


def keyboard_for(roles: Iterable[Role]) -> list[str]:
    """The main keyboard's commands for these roles."""
    mine = set(commands_for(roles))
    return [name for name in MAIN_KEYBOARD if name in mine]


def commands_for(roles: Iterable[Role]) -> list[str]:
    """The learner menu followed by every staff command the roles open, without repeats."""
    names = list(LEARNER_COMMANDS)
    for role in sorted(set(roles), key=list(Role).index):
        names += [c for c in STAFF_COMMANDS.get(role, ()) if c not in names]
    return names


def is_staff(roles: Iterable[Role]) -> bool:
    return any(role in STAFF_COMMANDS for role in roles)
