"""A multi-part delivery to Zalo remembers how far it got, for a while and within bounds."""

from __future__ import annotations

from bot.zalo.parts import PartsSent, content_key


def test_progress_is_kept_per_content_until_finished_or_old() -> None:
    now = [0.0]
    parts = PartsSent(keep_s=60, size=2, clock=lambda: now[0])
    key = content_key("z1", "part one", "part two")
    assert parts.done(key) == 0
    parts.advance(key, 1)
    assert parts.done(key) == 1
    assert parts.done(content_key("z2", "part one", "part two")) == 0  # another user
    assert parts.done(content_key("z1", "part one", "part 2")) == 0  # other words
    parts.finish(key)
    assert parts.done(key) == 0  # sent whole: the same words later are a new message

    parts.advance(key, 1)
    now[0] = 61
    assert parts.done(key) == 0  # too old: a retry this late starts again

    for n in range(5):
        parts.advance(content_key("z", str(n)), 1)
    assert len(parts) == 2 and parts.done(content_key("z", "4")) == 1
