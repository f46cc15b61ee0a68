"""Chat with the bot in a terminal, through the local Bot API emulator (`--demo`, no token).

Each line typed is sent as the user's message in their private chat; everything the bot
does in that chat is printed as the user would see it (visible text, not HTML):

    bot: Xianyu item 123 (sandbox)
         ¥ 2,999
         [1] Watch price  [2] Refresh  [3] Open ↗
    2
    you pressed [2] Refresh
    bot (notice): Refreshed
    bot (edited): Xianyu item 123 (sandbox) ...

Typing just a number presses that button of the most recent message with buttons (a
number with no such button is sent as text); `/commands` work as in Telegram. EOF
(Ctrl-D) or Ctrl-C ends the chat.

Input is read without blocking the event loop: from a file descriptor with
`loop.add_reader` (no thread, so Ctrl-C never waits for a blocked read), else from a
file-like object in a worker thread. When input is not a terminal (a pipe, a script),
the user's lines are echoed as `you: ...` and, unless told otherwise, each line waits
for the bot's reply (the first event within `reply_timeout`, then until the bot is
quiet for `quiet_period` seconds), so a scripted session prints question, answer,
question, answer.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import os
import stat
import sys
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from sandbox.botapi import BotApiEmulator, BotEvent, Chat, SentMessage, User

INDENT = "     "  # lines under "bot: "
#: the number the demo user "shares" from a request_contact button (Telegram's form: no "+")
DEMO_PHONE = "8613988888888"

_Item = tuple[str, Any]  # ("line", str) | ("eof", None) | ("event", BotEvent)


async def run_terminal_chat(
    emulator: BotApiEmulator,
    *,
    user: User,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    bot_username: str | None = None,
    chat: Chat | None = None,
    interactive: bool | None = None,
    wait_for_replies: bool | None = None,
    reply_timeout: float = 10.0,
    quiet_period: float = 1.5,  # a chat's messages leave 1.1 s apart (bot/rate_limiter.py)
) -> None:
    """Run the chat until EOF or Ctrl-C. `interactive` defaults to stdin being a terminal;
    `wait_for_replies` defaults to not interactive."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    if interactive is None:
        interactive = _isatty(stdin)
    session = TerminalChat(
        emulator,
        user=user,
        chat=chat or emulator.private_chat(user),
        stdout=stdout,
        bot_username=bot_username or emulator.bot_username,
        echo_input=not interactive,
        wait_for_replies=(not interactive) if wait_for_replies is None else wait_for_replies,
        reply_timeout=reply_timeout,
        quiet_period=quiet_period,
    )
    with contextlib.suppress(KeyboardInterrupt):
        await session.run(stdin)


class TerminalChat:
    """One user's private chat with the bot, shown on a text stream."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        *,
        user: User,
        chat: Chat,
        stdout: TextIO,
        bot_username: str,
        echo_input: bool,
        wait_for_replies: bool,
        reply_timeout: float,
        quiet_period: float,
    ) -> None:
        self.emulator = emulator
        self.user = user
        self.chat = chat
        self.out = stdout
        self.bot_username = bot_username
        self.echo_input = echo_input
        self.wait_for_replies = wait_for_replies
        self.reply_timeout = reply_timeout
        self.quiet_period = quiet_period
        # One queue for typed lines and bot events: the order they arrived is the order
        # they are shown, so a transcript reads exactly as the conversation happened.
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._held: deque[_Item] = deque()  # lines that arrived while waiting for replies
        self._keyboard: SentMessage | None = None  # latest message with buttons
        #: a line went to the bot and nothing has come back since: at the end of the input
        #: the chat still waits for that answer (a piped script's last line gets its reply)
        self._unanswered = False

    async def run(self, stdin: TextIO) -> None:
        self._write(
            f"Chatting with @{self.bot_username} as {self.user.first_name} (local emulator). "
            "Type a message; a number presses a button; Ctrl-D or Ctrl-C quits."
        )
        self.emulator.add_listener(self._on_event)
        stop_reading = _start_reader(stdin, self._queue.put_nowait)
        try:
            while (line := await self._next_line()) is not None:
                if await self._handle(line) and self.wait_for_replies:
                    await self._await_replies()
            if self._unanswered and self.wait_for_replies:
                await self._await_replies()
        finally:
            stop_reading()
            self.emulator.remove_listener(self._on_event)
        self._write("(chat ended)")

    # -- input ----------------------------------------------------------------------------

    async def _next_line(self) -> str | None:
        """Show bot events until the user's next line arrives; None at the end of input."""
        while True:
            kind, payload = self._held.popleft() if self._held else await self._queue.get()
            if kind == "event":
                self._show(payload)
            elif kind == "eof":
                self._drain()
                return None
            else:
                return str(payload)

    def _drain(self) -> None:
        while not self._queue.empty():
            kind, payload = self._queue.get_nowait()
            if kind == "event":
                self._show(payload)

    async def _await_replies(self) -> None:
        timeout = self.reply_timeout
        while True:
            try:
                async with asyncio.timeout(timeout):
                    kind, payload = await self._queue.get()
            except TimeoutError:
                return
            if kind == "event":
                self._show(payload)
                timeout = self.quiet_period
            else:
                self._held.append((kind, payload))

    async def _handle(self, line: str) -> bool:
        """Act on one typed line; True when something was sent to the bot."""
        text = line.strip()
        if not text:
            return False
        button = self._button(text)
        if button is None:
            if self.echo_input:
                self._write(f"you: {text}")
            await self.emulator.send_text(self.user, self.chat, text)
            self._unanswered = True
            return True
        self._write(f"you pressed [{text}] {button.get('text', '')}")
        if button.get("request_contact"):
            # Telegram would share the number it verified for the user: the demo user's is
            # the sandbox account 17895896's (seed 004's example phone)
            self._write(f"{INDENT}(shared your phone number: +{DEMO_PHONE})")
            await self.emulator.send_contact(self.user, DEMO_PHONE)
            self._unanswered = True
            return True
        if "callback_data" not in button:
            self._write(f"{INDENT}{_button_target(button)}")
            return False
        assert self._keyboard is not None
        await self.emulator.press(self.user, self._keyboard, int(text) - 1)
        self._unanswered = True
        return True

    def _button(self, text: str) -> dict[str, Any] | None:
        """The button a typed number means, if it means one."""
        if not text.isdigit() or self._keyboard is None or self._keyboard.deleted:
            return None
        buttons = _buttons_of(self._keyboard)
        number = int(text)
        return buttons[number - 1] if 1 <= number <= len(buttons) else None

    # -- output ---------------------------------------------------------------------------

    def _on_event(self, event: BotEvent) -> None:
        if event.chat_id == self.chat.id:
            self._queue.put_nowait(("event", event))

    def _show(self, event: BotEvent) -> None:
        self._unanswered = False
        if event.kind == "message":
            self._show_message("bot", event.messages[0])
        elif event.kind == "edit":
            self._show_message("bot (edited)", event.messages[0])
        elif event.kind == "album":
            self._show_album(event.messages)
        elif event.kind == "delete":
            self._write("bot (deleted a message)")
        elif event.kind == "callback_answer" and event.answer and event.answer.text:
            label = "alert" if event.answer.show_alert else "notice"
            self._write(f"bot ({label}): {event.answer.text}")

    def _show_message(self, header: str, message: SentMessage) -> None:
        lines: list[str] = []
        if message.photo is not None:
            lines.append(f"[photo] {message.photo.describe()}")
        if message.visible:
            lines.extend(message.visible.splitlines() or [""])
        buttons = _buttons_of(message)
        if buttons:
            lines.append(_button_row(buttons))
            self._keyboard = message
        elif self._keyboard is message:
            self._keyboard = None  # an edit took the buttons away
        self._write(_block(header, lines or ["(empty)"]))

    def _show_album(self, messages: tuple[SentMessage, ...]) -> None:
        lines = [f"[album: {len(messages)} photos]"]
        for number, message in enumerate(messages, start=1):
            assert message.photo is not None
            lines.append(f"  {number}. {message.photo.describe()}")
            lines.extend(f"     {part}" for part in message.visible.splitlines())
        self._write(_block("bot", lines))

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _block(header: str, lines: list[str]) -> str:
    first, *rest = lines
    pad = " " * (len(header) + 2)
    return "\n".join([f"{header}: {first}", *(f"{pad}{line}".rstrip() for line in rest)])


def _buttons_of(message: SentMessage) -> list[dict[str, Any]]:
    """The inline buttons, else a reply keyboard's (e.g. /link's "share my phone number")."""
    if message.buttons:
        return message.buttons
    rows = (message.reply_markup or {}).get("keyboard") or []
    return [b if isinstance(b, dict) else {"text": str(b)} for row in rows for b in row]


def _button_row(buttons: list[dict[str, Any]]) -> str:
    labels = []
    for number, button in enumerate(buttons, start=1):
        mark = " ↗" if "url" in button else ""
        labels.append(f"[{number}] {button.get('text', '')}{mark}")
    return "  ".join(labels)


def _button_target(button: dict[str, Any]) -> str:
    if "url" in button:
        return f"(opens {button['url']})"
    return "(not a callback button; the terminal cannot press it)"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- reading lines without blocking the event loop ----------------------------------------


def _start_reader(stdin: TextIO, put: Callable[[_Item], None]) -> Callable[[], object]:
    """Feed ("line", text) items and a final ("eof", None) to `put`; return a stopper."""
    loop = asyncio.get_running_loop()
    fd = _pollable_fd(stdin)
    if fd is not None:
        reader = _FdLineReader(fd, put)
        try:
            loop.add_reader(fd, reader.on_readable)
        except (NotImplementedError, OSError, ValueError):
            pass  # e.g. Windows' proactor loop: fall back to a thread
        else:
            reader.stop = lambda: loop.remove_reader(fd)
            return reader.stop
    task = loop.create_task(_pump_stream(stdin, put))
    return task.cancel


def _pollable_fd(stream: TextIO) -> int | None:
    """The stream's descriptor when select() can wait on it (pipe, terminal, socket)."""
    if isinstance(stream, io.StringIO):
        return None
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    # Regular files are always "ready" and epoll refuses them; they never block anyway.
    return None if stat.S_ISREG(mode) else fd


class _FdLineReader:
    def __init__(self, fd: int, put: Callable[[_Item], None]) -> None:
        self.fd = fd
        self.put = put
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = ""
        self.stop: Callable[[], Any] = lambda: None

    def on_readable(self) -> None:
        # Readable means os.read returns at once (a line on a terminal, or EOF).
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        self.buffer += self.decoder.decode(data, final=not data)
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            self.put(("line", line.rstrip("\r")))
        if not data:
            self.stop()
            if self.buffer:
                self.put(("line", self.buffer))
                self.buffer = ""
            self.put(("eof", None))


async def _pump_stream(stdin: TextIO, put: Callable[[_Item], None]) -> None:
    blocking = not isinstance(stdin, io.StringIO)
    while True:
        try:
            line = await asyncio.to_thread(stdin.readline) if blocking else stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:
            put(("eof", None))
            return
        put(("line", line.rstrip("\r\n")))
