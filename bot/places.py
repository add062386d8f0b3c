"""Where a session happens, in words: catalog keys and their values, so that a notice is put
into words in its reader's language when it is sent, and a handler in the person's own.

The meeting link is only for the people of the class (enrolled learners, lecturers, the
office): anyone else reads "online" without it.
"""

from __future__ import annotations

from typing import Any

from bot.training import ClassFormat, Place

Text = dict[str, Any]  # a catalog text as a notice's parameter: {"key": ..., "params": ...}


def place_words(place: Place, *, shows_link: bool) -> Text:
    """The place in a few words, on one line ("Hội trường B, kết hợp trực tuyến")."""
    link = place.link if shows_link else None
    if place.format is ClassFormat.ONLINE:
        if link:
            return {"key": "place.online_link", "params": {"link": link}}
        return {"key": "place.online" if not shows_link else "place.online_no_link"}
    if not place.room:
        return {"key": "place.none"}
    if place.format is ClassFormat.BLENDED:
        if link:
            return {"key": "place.blended_link", "params": {"room": place.room, "link": link}}
        return {"key": "place.blended", "params": {"room": place.room}}
    return {"key": "place.room", "params": {"room": place.room}}


def place_lines(place: Place) -> list[Text]:
    """The place as a reminder shows it to the people of the class: the room, then the
    meeting link, a line each."""
    lines: list[Text] = []
    if place.format is not ClassFormat.ONLINE:
        lines.append(
            {"key": "reminder.room_line", "params": {"room": place.room}}
            if place.room
            else {"key": "reminder.no_room"}
        )
    if place.format is not ClassFormat.ON_SITE:
        if place.link:
            lines.append({"key": "reminder.link_line", "params": {"link": place.link}})
        else:
            lines.append({"key": "reminder.no_link"})
    return lines
