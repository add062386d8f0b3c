"""Steps the training office's dialogues share: a typed answer under inline Back and Cancel
(the main keyboard stays under the text box), and a summary with a button per answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from bot.domain import NavOp
from bot.i18n import Raw
from handlers.dialogue import D, Flow, Goto, Move, Step, Turn
from handlers.steps import SKIP
from handlers.ui import Button, Markup, inline

Parse = Callable[[Turn[Any], str], Awaitable[Any]]
Echo = Callable[[Turn[Any], Any], str]
Then = Callable[[Turn[Any]], Move]
SUGGESTION = "s"  # the value of a suggested answer's button
CONFIRM = "yes"


def onward(turn: Turn[Any], step: str) -> Move:
    """On to `step`, or back to the summary that sent the person here to change one answer."""
    return Flow.NEXT if turn.state.return_to is not None else Goto(step)


class Typed(Step[D]):
    """A typed answer read by a parser of the service layer; optionally a skip button (None
    stored) and a suggested answer (typed for the person), and a line echoing what was taken."""

    def __init__(
        self,
        name: str,
        field: str,
        *,
        prompt: str,
        parse: Parse,
        skip: str | None = None,
        skip_if: Callable[[Turn[Any]], bool] | None = None,
        suggest: Callable[[Turn[Any]], Awaitable[str | None]] | None = None,
        echo: Echo | None = None,
        then: Then | None = None,
        params: Callable[[Turn[Any]], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(name, field)
        self.prompt = prompt
        self.parse = parse
        self.skip = skip
        #: When the skip button is offered (always, if not given).
        self.skip_if = skip_if
        self.suggest = suggest
        self.echo = echo
        self.then = then
        self.params = params

    def _prompt(self, turn: Turn[D]) -> str:
        return turn.t(self.prompt, **(self.params(turn) if self.params else {}))

    async def ask(self, turn: Turn[D]) -> None:
        await turn.say(self._prompt(turn), await self._buttons(turn))

    async def _answered(self, turn: Turn[D], answer: str) -> None:
        """The question keeps its text, with the answer tapped below it."""
        await turn.show(self._prompt(turn) + "\n" + turn.t("class_admin.answered", answer=answer))

    def _skips(self, turn: Turn[D]) -> str | None:
        """The skip button's label, if offered here."""
        if self.skip is None or (self.skip_if is not None and not self.skip_if(turn)):
            return None
        return turn.t(self.skip)

    async def _buttons(self, turn: Turn[D]) -> Markup:
        rows: list[list[Button]] = []
        suggested = await self.suggest(turn) if self.suggest else None
        if suggested:
            rows.append([(suggested, turn.choice(SUGGESTION))])
        if (skip := self._skips(turn)) is not None:
            rows.append([(skip, turn.choice(SKIP))])
        return inline([*rows, turn.nav_row()])

    def retry_markup(self, turn: Turn[D]) -> Markup:
        """After a refused answer the skip button stays: skipping is still an answer."""
        skip = self._skips(turn)
        rows: list[list[Button]] = [[(skip, turn.choice(SKIP))]] if skip is not None else []
        return inline([*rows, turn.nav_row()])

    async def typed_labels(self, turn: Turn[D]) -> Sequence[tuple[str, str]]:
        skip = self._skips(turn)
        return [(skip, SKIP)] if skip is not None else []

    async def on_text(self, turn: Turn[D], text: str) -> Move:
        return await self._take(turn, await self.parse(turn, text))

    async def on_choice(self, turn: Turn[D], value: str) -> Move:
        if value == SKIP and (skip := self._skips(turn)) is not None:
            await self._answered(turn, skip)
            return await self._take(turn, None)
        suggested = await self.suggest(turn) if self.suggest else None
        if value == SUGGESTION and suggested:
            taken = await self.parse(turn, suggested)
            await self._answered(turn, suggested)
            return await self._take(turn, taken)
        return Flow.RETRY

    async def _take(self, turn: Turn[D], value: Any) -> Move:
        self.store(turn, value)
        if self.echo is not None and value is not None:
            await turn.say(self.echo(turn, value))
        return self.then(turn) if self.then else Flow.NEXT


class Summary(Step[D]):
    """Everything answered, then save, change one answer, or cancel."""

    def __init__(
        self,
        name: str,
        *,
        render: Callable[[Turn[Any]], Awaitable[str]],
        edits: Callable[[Turn[Any]], Sequence[tuple[str, str]]],
        save: str,
    ) -> None:
        super().__init__(name)
        self.render = render
        self.edits = edits  # (label key, step) of the answers that can be changed
        self.save = save

    async def ask(self, turn: Turn[D]) -> None:
        edits: list[Button] = [
            (turn.t(label), turn.nav(NavOp.EDIT, step)) for label, step in self.edits(turn)
        ]
        rows: list[list[Button]] = [
            [(turn.t(self.save), turn.choice("save"))],
            *(edits[i : i + 3] for i in range(0, len(edits), 3)),
            [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))],
        ]
        await turn.say(Raw(await self.render(turn)), inline(rows))

    def edit_targets(self, turn: Turn[D]) -> Collection[str]:
        return {step for _label, step in self.edits(turn)}

    async def typed_labels(self, turn: Turn[D]) -> Sequence[tuple[str, str]]:
        return [(turn.t(self.save), "save")]

    async def on_choice(self, turn: Turn[D], value: str) -> Move:
        return Flow.FINISH if value == "save" else Flow.RETRY


class Confirm(Step[D]):
    """What is about to change, then one button to do it (or Back, or Cancel)."""

    def __init__(
        self, name: str, *, render: Callable[[Turn[Any]], Awaitable[str]], button: str
    ) -> None:
        super().__init__(name)
        self.render = render
        self.button = button

    async def ask(self, turn: Turn[D]) -> None:
        rows: list[list[Button]] = [[(turn.t(self.button), turn.choice(CONFIRM))]]
        await turn.say(await self.render(turn), inline([*rows, turn.nav_row()]))

    async def typed_labels(self, turn: Turn[D]) -> Sequence[tuple[str, str]]:
        return [(turn.t(self.button), CONFIRM)]

    async def on_choice(self, turn: Turn[D], value: str) -> Move:
        return Flow.FINISH if value == CONFIRM else Flow.RETRY
