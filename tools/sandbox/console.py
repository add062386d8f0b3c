"""Terminal input and output that never block the event loop the bot runs on.

The bot may speak at any moment (reminders come on its own initiative), so output is written
from the loop while a line is being typed: on a terminal the prompt and the half-typed line
are drawn again below the message. Input comes from GNU readline in a daemon thread on a
terminal (line editing, history), and from a non-blocking pipe otherwise, so tests and
`printf … | python -m bot` work too.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Protocol, TextIO

_CLEAR_LINE = "\r\x1b[K"


class Console:
    """Writes whole blocks of text; redraws the prompt if a line is being typed."""

    def __init__(self, out: TextIO, *, terminal: bool) -> None:
        self.out = out
        self.terminal = terminal
        self.prompt: str | None = None
        self.typed: Callable[[], str] = str

    def show(self, text: str, *, stream: TextIO | None = None) -> None:
        stream = stream or self.out
        waiting = self.prompt if self.terminal else None
        if waiting is not None:
            self.out.write(_CLEAR_LINE)
            self.out.flush()
        stream.write(text + "\n")
        stream.flush()
        if waiting is not None:
            self.out.write(waiting + self.typed())
            self.out.flush()


class LineSource(Protocol):
    """Where typed lines come from; `read` returns None at end of input."""

    #: Whether the person saw the line as they typed it; if not, the sandbox prints it.
    shows_input: bool

    async def read(self, prompt: str) -> str | None: ...

    def close(self) -> None: ...


class ReadlineSource:
    """input() with GNU readline in a daemon thread, one line per request.

    A daemon thread, not an executor: the process must be able to exit while input() still
    waits. The prompt is asked for each line, so it shows the identity switched to.
    """

    shows_input = True

    def __init__(self, console: Console) -> None:
        import readline
        import termios

        self._console = console
        self._readline = readline
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: asyncio.Future[str | None] | None = None
        self._wake = threading.Event()
        self._prompt = ""
        console.typed = readline.get_line_buffer

    async def read(self, prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        if self._thread is None:
            self._loop = loop
            self._thread = threading.Thread(target=self._run, name="sandbox-input", daemon=True)
            self._thread.start()
        self._pending = loop.create_future()
        self._prompt = prompt
        self._wake.set()
        try:
            return await self._pending
        finally:
            self._console.prompt = None

    def _on_screen(self) -> None:
        """Readline's pre-input hook: the prompt is drawn and the line buffer is fresh."""
        self._console.prompt = self._prompt

    def _run(self) -> None:
        assert self._loop is not None
        if hasattr(self._readline, "set_pre_input_hook"):
            self._readline.set_pre_input_hook(self._on_screen)
        while True:
            self._wake.wait()
            self._wake.clear()
            if not hasattr(self._readline, "set_pre_input_hook"):
                self._on_screen()
            try:
                line: str | None = input(self._prompt)
            except Exception:  # Ctrl-D (EOFError), or a terminal gone away
                line = None
            # Cleared here, not in the loop: output arriving right after Enter must not
            # draw the prompt again.
            self._console.prompt = None
            self._loop.call_soon_threadsafe(self._resolve, line)
            if line is None:
                return

    def _resolve(self, line: str | None) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_result(line)

    def close(self) -> None:
        """Give the terminal back as it was: readline may be mid-line when we stop."""
        import termios

        self._console.prompt = None
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


class PipeSource:
    """Lines from a pipe (or a file, or a terminal without readline), read without blocking."""

    def __init__(self, console: Console, stdin: TextIO, *, interactive: bool) -> None:
        self._console = console
        self._stdin = stdin
        self.shows_input = interactive
        self._reader: asyncio.StreamReader | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._lines: list[bytes] | None = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        try:
            self._transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), self._stdin
            )
        except (ValueError, OSError):
            # A regular file (`< script.txt`) cannot be polled, but never blocks either.
            self._lines = self._stdin.buffer.read().splitlines(keepends=True)
            self._lines.reverse()
        self._reader = reader

    async def read(self, prompt: str) -> str | None:
        if self._reader is None:
            await self._open()
        assert self._reader is not None
        if self._lines is not None:
            raw = self._lines.pop() if self._lines else b""
        else:
            if self.shows_input:
                self._console.prompt = prompt
                self._console.out.write(prompt)
                self._console.out.flush()
            try:
                raw = await self._reader.readline()
            except ValueError:  # a line longer than the limit: drop it, keep going
                raw = b"\n"
            finally:
                self._console.prompt = None
        if not raw:
            return None
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def open_source(console: Console, stdin: TextIO) -> LineSource:
    """Readline on an interactive terminal, a pipe reader otherwise."""
    interactive = console.terminal and stdin.isatty()
    if interactive:
        try:
            return ReadlineSource(console)
        except ImportError:
            pass
    return PipeSource(console, stdin, interactive=interactive)
