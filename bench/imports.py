"""A 50,000-row roster imported through the bot: seconds from the upload to the saved
report, the bot process's peak memory, and a second import of the same file that must
change nothing.

The bot runs as a child process (`python -m bot`) against the emulator (in this process, or
a standalone one at --api-url), on a fresh database; an administrator sends the workbook (a
"Đơn vị" sheet of 120 units, then the roster) as a document, reads the dry run and taps "Lưu".
Prints `rows`, `inserted`, `updated`, `errors` (requests the emulator refused as Telegram
would), `seconds`, `rss_mb`, `reimport_changed`, `database` and `api_url`.
"""

from __future__ import annotations

import io
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook

from bench.bot_process import BotProcess
from bench.common import (
    BenchError,
    Talker,
    add_database_option,
    base_parser,
    fresh_database,
    positive_int,
    progress,
    run_main,
    tap_label,
    url_of,
    venues_for,
)
from storage.schema import people
from tools.emulator.users import BotMessage

ADMIN_ID = 9_100_001
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNITS = 120
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Lò", "Hà", "Vàng", "Đinh", "Sùng")
MIDDLE = ("Thị", "Văn", "Minh", "Thu", "Quốc", "Ngọc", "A", "Hữu")
GIVEN = ("Phương", "Lan", "Dung", "Pó", "Sua", "Khánh", "Mai", "Tám", "Hùng", "Đào")
ETHNICITIES = ("Kinh", "Tày", "Thái", "Mông", "Dao", "Nùng")
COUNTS = re.compile(r"(\d[\d.]*) dòng: thêm mới (\d[\d.]*), cập nhật (\d[\d.]*)")


def roster_workbook(rows: int, seed: int = 7) -> bytes:
    """A units sheet and `rows` cadres, as an office would keep them (phones as numbers)."""
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    units = book.create_sheet("Đơn vị")
    units.append(["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Loại đơn vị"])
    units.append(["TINH", "Tỉnh Sơn Lâm", "", "province"])
    codes = [f"XA.{n:03d}" for n in range(UNITS)]
    for n, code in enumerate(codes):
        units.append([code, f"Xã Số {n + 1}", "TINH", "commune"])
    sheet = book.create_sheet("Cán bộ")
    sheet.append(["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Loại cán bộ", "Ngạch hoặc chức danh "
                  "nghề nghiệp", "Giới tính", "Năm sinh", "Dân tộc", "Số điện thoại",
                  "Cán bộ nguồn"])  # fmt: skip
    for n in range(rows):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        sheet.append([
            f"CB{n:06d}", name, rng.choice(codes), "Công chức", "Chuyên viên",
            rng.choice(("Nam", "Nữ")), rng.randint(1965, 2000), rng.choice(ETHNICITIES),
            912_000_000 + n, "Có" if n % 10 == 0 else "",
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _until(user: Talker, wanted: str, wait_s: float) -> BotMessage:
    """The next message containing `wanted`; a refusal of the file on the way is an error."""
    deadline = time.monotonic() + wait_s
    while True:
        event = await user.next_message(max(0.1, deadline - time.monotonic()))
        if "lỗi, cần sửa" in event.body:
            raise BenchError(f"the file was refused: {event.body[:300]}")
        if wanted in event.body and not event.deleted:
            return event


def _rss_peak_mb(pid: int) -> float:
    """The child's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError("no VmHWM for the bot process")


async def _import(admin: Talker, data: bytes, wait_s: float) -> tuple[BotMessage, BotMessage, bool]:
    """Sends the file; the dry run, the message that follows it, and whether that offers
    to save."""
    await admin.send("/import")
    kinds = await _until(admin, "chọn loại dữ liệu", 30)
    await tap_label(admin, kinds, "Danh sách cán bộ")
    await _until(admin, "Mã cán bộ (bắt buộc)", 30)
    await admin.upload("danh-sach-can-bo.xlsx", data, XLSX)
    dry = await _until(admin, "Kết quả kiểm tra file", wait_s)
    follow = await _until(admin, "không?" if "thêm mới 0, cập nhật 0" not in dry.body
                          else "không có gì cần thay đổi", 30)  # fmt: skip
    return dry, follow, "Lưu" in " ".join(follow.labels)


def _number(text: str) -> int:
    return int(text.replace(".", ""))


async def bench(rows: int, database_url: str | None, api_url: str | None) -> dict[str, Any]:
    progress(f"generating a roster of {rows:,} rows")
    data = roster_workbook(rows)
    venues = venues_for(api_url)
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        async with fresh_database(database_url, Path(tmp)) as db, venues("imports") as venue:
            admin = venue.user(ADMIN_ID, "Quản")
            # A fresh database has no staff, so the bot's start sets no menu Telegram refuses.
            refused_before = await venue.refused()
            bot = BotProcess(
                {"BOT_TOKEN": venue.token, "TELEGRAM_BASE_URL": venue.base_url,
                 "TELEGRAM_BASE_FILE_URL": venue.base_file_url, "DATABASE_URL": url_of(db),
                 "ADMIN_IDS": str(ADMIN_ID), "OFFICE_REMINDER_HOURS": "00:00-00:00",
                 "DIGEST_WEEKLY": "off", "DIGEST_MONTHLY": "off"},
                Path(tmp),
            )  # fmt: skip
            await bot.start()
            try:
                progress(f"sending {len(data) / 1e6:.1f} MB")
                started = time.monotonic()
                dry, follow, offered = await _import(admin, data, 600)
                if not offered:
                    raise BenchError(f"no save offered: {dry.body[:300]}")
                await tap_label(admin, follow, "Lưu")
                saved = await _until(admin, "Đã lưu file", 600)
                seconds = time.monotonic() - started
                _, added, changed = COUNTS.findall(saved.body)[-1]  # the roster, after the units
                inserted, updated = _number(added), _number(changed)
                async with db.read() as conn:
                    stored = await conn.execute(sa.select(sa.func.count()).select_from(people))
                    before = stored.scalar_one()
                progress("importing the same file again")
                again, _, offered_again = await _import(admin, data, 600)
                changed_again = sum(_number(a) + _number(c) for _, a, c in
                                    COUNTS.findall(again.body))  # fmt: skip
                async with db.read() as conn:
                    after = (
                        await conn.execute(sa.select(sa.func.count()).select_from(people))
                    ).scalar_one()
                assert bot.process is not None
                rss = _rss_peak_mb(bot.process.pid)
            finally:
                await bot.kill()
            refused = await venue.refused() - refused_before
            dialect = db.dialect
    if refused:
        progress(f"the emulator refused {refused} requests as Telegram would")
    return {
        "rows": rows, "inserted": inserted, "updated": updated, "errors": refused,
        "seconds": round(seconds, 2), "rss_mb": round(rss, 1), "stored": before,
        "reimport_changed": changed_again + abs(after - before) + int(offered_again),
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "api_url": api_url,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = base_parser("bench.imports", __doc__)
    parser.add_argument("--rows", type=positive_int, default=50_000)
    add_database_option(parser)
    args = parser.parse_args(argv)
    return run_main("bench.imports", args.api_url, args.timeout,
                    lambda: bench(args.rows, args.database_url, args.api_url))  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
