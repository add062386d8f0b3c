"""The QR code of a deep link as a PNG, large enough to be scanned off a projector at the
back of a hall."""

from __future__ import annotations

import io

import segno

#: Pixels per module: a check-in link makes a version-5 code (37 modules and a quiet zone
#: of 4 on each side), which comes out 900 px wide.
SCALE = 20


def qr_png(url: str) -> bytes:
    """The PNG of `url`, with error correction Q: a projector's glare or a smudge still reads."""
    code = segno.make(url, error="q", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=SCALE, border=4)
    return out.getvalue()
