"""`python -m bot` without BOT_TOKEN, as `make run` starts it: a subprocess fed line by line.

The sandbox runs in a temporary SANDBOX_DIR (and working directory, so the repository's
`.env` is not read); each step writes one line and reads stdout until the expected text.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

pytestmark = pytest.mark.slow

STEP_S = 10.0
#: Seeding the demo province (two years of classes and marks) on a busy machine.
SEED_S = 30.0
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Sandbox:
    """One `python -m bot` process with piped stdin, stdout and stderr."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = ""
        self.cursor = 0

    async def expect(self, pattern: str, within: float = STEP_S) -> re.Match[str]:
        """Read stdout until `pattern` (a regex) matches text not matched before."""
        assert self.process.stdout is not None
        compiled = re.compile(pattern)
        try:
            async with asyncio.timeout(within):
                while not (found := compiled.search(self.output, self.cursor)):
                    chunk = await self.process.stdout.read(4096)
                    if not chunk:
                        break
                    self.output += chunk.decode("utf-8", errors="replace")
        except TimeoutError:
            found = None
        if found is None:
            raise AssertionError(
                f"no {pattern!r} within {within}s; output after the last match:\n"
                f"{self.output[self.cursor :]}\n--- stderr ---\n{await self.stderr()}"
            )
        self.cursor = found.end()
        return found

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def exit_code(self, within: float = STEP_S) -> int:
        async with asyncio.timeout(within):
            return await self.process.wait()

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        if self.process.returncode is None:
            return "(still running)"
        return (await self.process.stderr.read()).decode("utf-8", errors="replace")


Launch = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Launch]:
    """Starts `python -m bot [args]` in tmp_path; kills what is left running at the end."""
    started: list[asyncio.subprocess.Process] = []
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "SANDBOX_RESET")}
    env.update(SANDBOX_DIR=str(tmp_path), PYTHONIOENCODING="utf-8")

    async def launch(*args: str) -> Sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        started.append(process)
        return Sandbox(process)

    try:
        yield launch
    finally:
        for process in started:
            if process.returncode is None:  # hung: take down its whole process group
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def test_newcomer_onboards_and_the_admin_finds_them(sandbox: Launch, tmp_path: Path) -> None:
    bot = await sandbox()
    await bot.expect(r"Bạn là Triệu Thị Đào, cán bộ mới \(newcomer, \+84912000005\)", SEED_S)
    await bot.expect(r"Gõ :as admin để chuyển sang quản trị viên")
    agree = await bot.expect(r"\[(\d+)\] ✅ Tôi đồng ý")
    await bot.type(agree[1])
    share = await bot.expect(r"\((\w+)\) 📱 Chia sẻ số điện thoại")
    await bot.type(share[1])
    await bot.expect(r"Triệu Thị Đào")
    await bot.expect(r"Đây có phải là đồng chí không\?")
    yes = await bot.expect(r"\[(\d+)\] ✅ Đúng, là tôi")
    await bot.type(yes[1])
    await bot.expect(r"đã được liên kết")

    await bot.type(":as admin")
    await bot.expect(r"Chào mừng đồng chí Hoàng Thị Thu Hằng")
    await bot.type("/people trieu thi dao")
    await bot.expect(r"\[1\] Triệu Thị Đào \(1995\) · Xã Lũng Cú")
    await bot.type(":quit")
    assert await bot.exit_code() == 0
    stderr = await bot.stderr()
    assert "Traceback" not in stderr, stderr
    assert (tmp_path / "data" / "sandbox.db").is_file()
    assert "Application started" in (tmp_path / "data" / "sandbox.log").read_text("utf-8")

    # The next run reuses the database: the newcomer is linked, nothing is seeded again.
    again = await sandbox()
    await again.expect(r"Chào mừng đồng chí Triệu Thị Đào quay lại")
    assert "seeding" not in again.output
    again.process.send_signal(signal.SIGTERM)
    assert await again.exit_code() == 0
    assert "Traceback" not in await again.stderr()


async def test_a_zalo_user_declares_a_profile_enrols_and_is_reminded(sandbox: Launch) -> None:
    today = datetime.now(TZ).date()
    if (today.month, today.day) == (12, 31):
        pytest.skip("the demo's classes stay in this year's plan: none tomorrow morning")
    bot = await sandbox()
    # The demo learner's short class meets tomorrow at 07:30: open to every cadre.
    week = await bot.expect(r"/schedule: (\S+) tuần này", SEED_S)
    await bot.expect(r"\[\d+\] ✅ Tôi đồng ý")
    await bot.type(":zalo")
    await bot.expect(r"zalo› /start   \(tự động")
    # Plain text, as Zalo shows it: the buttons are numbered lines, answered by typing.
    agree = await bot.expect(r"\n   (\d+) · ✅ Tôi đồng ý\n")
    assert "<b>" not in bot.output and "[1] ✅ Tôi đồng ý\n   2 ·" not in bot.output
    await bot.type(agree[1])
    declare = await bot.expect(r"(\d+) · ✍️ Tự khai báo hồ sơ")
    await bot.type(declare[1])
    await bot.expect(r"họ và tên")
    await bot.type("Vàng Thị Mai")
    await bot.expect(r"tên đơn vị công tác")
    await bot.type("lung cu")
    unit = await bot.expect(r"(\d+) · Xã Lũng Cú")
    await bot.type(unit[1])
    await bot.expect(r"chức vụ")
    await bot.type("bo qua")  # a choice's words, without diacritics, work as its number
    await bot.expect(r"giới tính")
    await bot.type("nu")
    await bot.expect(r"năm sinh")
    await bot.type("1996")
    await bot.expect(r"dân tộc")
    await bot.type("khong khai")
    confirm = await bot.expect(r"(\d+) · ✅ Xác nhận")
    await bot.type(confirm[1])
    await bot.expect(r"Đã tạo hồ sơ tự khai báo")

    # Zalo takes no documents: each file is a link to the sandbox's own file server, shown in
    # the terminal, that downloads it.
    await bot.type("/mydata")
    link = r"\n\s+(http://127\.0\.0\.1:\d+/files/\S+/du-lieu-ca-nhan\.{})\n"
    book = await bot.expect(r"📎 Tệp du-lieu-ca-nhan\.xlsx — [^\n]*" + link.format("xlsx"))
    machine = await bot.expect(r"📎 Tệp du-lieu-ca-nhan\.json — [^\n]*" + link.format("json"))
    async with httpx.AsyncClient(timeout=STEP_S, trust_env=False) as http:
        workbook, data = await http.get(book[1]), await http.get(machine[1])
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert "attachment" in workbook.headers["content-disposition"]
    assert data.status_code == 200 and data.json()["full_name"] == "Vàng Thị Mai"

    await bot.type(f"/classes {week[1]}")
    listed = await bot.expect(r"\n\s*(\d+) · [^\n]*\n\s*\d+ · Loại lớp")  # the class, then filters
    await bot.type(listed[1])
    enrol = await bot.expect(rf"Mã lớp: {re.escape(week[1])}[\s\S]*?(\d+) · ✅ Đăng ký lớp này")
    await bot.type(enrol[1])
    sure = await bot.expect(r"(\d+) · ✅ Xác nhận đăng ký")
    await bot.type(sure[1])
    await bot.expect(r"Đồng chí đã đăng ký lớp")

    tomorrow = today + timedelta(days=1)
    await bot.type(f":clock {tomorrow:%d/%m} 07:00")
    await bot.expect(r"🤖 ⏰ Nhắc lịch học hôm nay, còn 30 phút")
    await bot.type(":quit")
    assert await bot.exit_code() == 0
    assert "Traceback" not in await bot.stderr()


async def test_reset_end_of_input_and_ctrl_c(sandbox: Launch) -> None:
    first = await sandbox()
    await first.expect(r"seeding 6000")
    await first.expect(r"Lớp mẫu · demo classes: 55 lớp", within=SEED_S)
    await first.expect(r"\[\d+\] ✅ Tôi đồng ý")
    first.process.send_signal(signal.SIGINT)
    await first.expect(r"sandbox stopped")
    assert await first.exit_code() == 0
    assert "Traceback" not in await first.stderr()

    reset = await sandbox("--reset")
    await reset.expect(r"seeding 6000")
    await reset.expect(r"\[\d+\] ✅ Tôi đồng ý", within=SEED_S)
    assert reset.process.stdin is not None
    reset.process.stdin.close()  # end of input ends the sandbox
    await reset.expect(r"sandbox stopped")
    assert await reset.exit_code() == 0


async def test_the_clock_brings_a_reminder_and_a_restart_keeps_the_moved_time(
    sandbox: Launch,
) -> None:
    today = datetime.now(TZ).date()
    if (today.month, today.day) == (12, 31):
        pytest.skip("the demo's classes stay in this year's plan: none tomorrow morning")
    bot = await sandbox()
    await bot.expect(r"Xem nhắc lịch: :clock 19:00", within=SEED_S)
    await bot.expect(r"\[\d+\] ✅ Tôi đồng ý")
    await bot.type(":as learner")
    await bot.expect(r"Chào mừng đồng chí Lò Thị Dung")
    # Her class meets tomorrow at 07:30: its one-hour reminder is due at 06:30.
    tomorrow = today + timedelta(days=1)
    await bot.type(f":clock {tomorrow:%d/%m} 07:00")
    await bot.expect(rf"sandbox time: 07:00 [^\n]*{tomorrow:%d/%m/%Y} \(giờ thật \+")
    await bot.expect(r"🤖 ⏰ Nhắc lịch học hôm nay, còn 30 phút\n\s+📘 [^\n]*\n\s+🕗 07:30–11:00")
    await bot.type(":who")
    await bot.expect(r"lecturer +Đặng Quốc Khánh, giảng viên \(id 900003\) · \d+ tin mới")
    after = tomorrow + timedelta(days=1)
    await bot.type(":clock 06:00")  # the next 06:00 is the day after's: never moved back
    await bot.expect(rf"sandbox time: 06:00 [^\n]*{after:%d/%m/%Y} ")
    await bot.type(":clock +1 giờ")
    await bot.expect(rf"sandbox time: 07:00 [^\n]*{after:%d/%m/%Y} ")
    await bot.type(":clock 01/01/2020 08:00")
    await bot.expect(r"the clock only moves forward")
    await bot.type(":quit")
    assert await bot.exit_code() == 0
    assert "Traceback" not in await bot.stderr()

    again = await sandbox()
    await again.expect(rf"sandbox time: 07:0\d [^\n]*{after:%d/%m/%Y} \(giờ thật \+ ")
    assert "seeding" not in again.output
    await again.type(":quit")
    assert await again.exit_code() == 0

    reset = await sandbox("--reset")
    await reset.expect(r"seeding 6000")
    await reset.expect(r"\[\d+\] ✅ Tôi đồng ý", within=SEED_S)
    await reset.type(":clock")
    await reset.expect(r"sandbox time: [^\n]*\(giờ thật · real time\)")
    await reset.type(":quit")
    assert await reset.exit_code() == 0


async def test_the_admin_imports_the_demo_roster_files(sandbox: Launch, tmp_path: Path) -> None:
    bot = await sandbox()
    await bot.expect(r"\[\d+\] ✅ Tôi đồng ý", within=SEED_S)
    assert (tmp_path / "sandbox-files" / "roster-update.xlsx").is_file()
    await bot.type(":as admin")
    await bot.expect(r"Chào mừng đồng chí Hoàng Thị Thu Hằng")
    await bot.type("/import")
    roster = await bot.expect(r"\[(\d+)\] 👥 Danh sách cán bộ")
    await bot.type(roster[1])
    await bot.expect(r"Mã cán bộ \(bắt buộc\)")
    await bot.type(":file sandbox-files/roster-error.xlsx")
    await bot.expect(r"có lỗi 4")
    await bot.expect(r"Có 4 lỗi")
    await bot.expect(r"Dòng 8, cột «Mã đơn vị»: Ô này không được để trống")
    await bot.expect(r"Dòng 9, cột «Mã đơn vị»: không có đơn vị mã «XA.KHONGCO»")
    await bot.expect(r"Dòng 10, cột «Số điện thoại»: số điện thoại này đã là của đồng chí")
    await bot.type(":file sandbox-files/roster-update.xlsx")
    await bot.expect(r"thêm mới 3, cập nhật 3, giữ nguyên 3")
    save = await bot.expect(r"\[(\d+)\] ✅ Lưu")
    await bot.type(save[1])
    await bot.expect(r"Đã lưu file «roster-update.xlsx»")
    await bot.type(":quit")
    assert await bot.exit_code() == 0
    assert "Traceback" not in await bot.stderr()


async def test_the_admin_imports_the_demo_plan_classes_and_timetable(
    sandbox: Launch, tmp_path: Path
) -> None:
    bot = await sandbox()
    await bot.expect(r"\[\d+\] ✅ Tôi đồng ý", within=SEED_S)
    year = datetime.now(TZ).year
    await bot.type(":as admin")
    await bot.expect(r"Chào mừng đồng chí Hoàng Thị Thu Hằng")
    for kind, name in (
        ("📊 Kế hoạch năm", f"ke-hoach-{year + 1}.xlsx"),
        ("📘 Chương trình bồi dưỡng", "chuong-trinh.xlsx"),
        ("🏫 Lớp học", "lop-hoc.xlsx"),
        ("🗓 Lịch học", "buoi-hoc.xlsx"),
    ):
        await bot.type("/import")
        button = await bot.expect(rf"\[(\d+)\] {kind}")
        await bot.type(button[1])
        await bot.type(f":file sandbox-files/{name}")
        await bot.expect(rf"Kết quả kiểm tra file «{re.escape(name)}»")
        save = await bot.expect(r"\[(\d+)\] ✅ Lưu")
        await bot.type(save[1])
        await bot.expect(rf"Đã lưu file «{re.escape(name)}»")
    await bot.type("/import")
    button = await bot.expect(r"\[(\d+)\] 🏫 Lớp học")
    await bot.type(button[1])
    await bot.type(":file sandbox-files/lop-hoc-co-loi.xlsx")
    await bot.expect(r"Có 4 lỗi")
    await bot.expect(r"Dòng 2, cột «Hình thức»: «Học từ xa» không phải giá trị được chấp nhận")
    await bot.type(":quit")
    assert await bot.exit_code() == 0
    assert "Traceback" not in await bot.stderr()
