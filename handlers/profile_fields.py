"""The questions of a profile, shared by sign-up and by editing a self-declared profile.

Each reads its answer through `PeopleService.parse_field`, so what is accepted (a name with
two words, a year of working age, a unit that exists) is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import Gender, OtherTitle, ProfileField, UnitScope
from bot.validation import lacks_diacritics
from handlers.dialogue import Flow, Move, Step, Turn
from handlers.steps import SEARCH_SHOWN, ChoiceStep, Option, TextStep
from handlers.ui import Markup, back_cancel_keyboard, inline

OTHER = "other"  # the value of the "Other: type it" button


@dataclass
class ProfileAnswers:
    """The answers a profile dialogue collects; the field names are the steps' fields."""

    full_name: str | None = None
    #: A name typed without any diacritics, until the person says it is right.
    unmarked_name: str | None = None
    unit_id: int | None = None
    title_id: int | None = None
    #: A position not in the list, typed after choosing "Other".
    title_other: str | None = None
    title_typing: bool = False
    gender: Gender | None = None
    birth_year: int | None = None
    ethnicity_id: int | None = None


def _parser(field: ProfileField) -> Any:
    async def parse(turn: Turn[Any], raw: str) -> Any:
        return await turn.services.people.parse_field(field, raw)

    return parse


async def unit_options(
    turn: Turn[Any], query: str, within: UnitScope | None = None
) -> Sequence[Option]:
    """Units matching a few typed words (within a scope, if given), as choices."""
    found = await turn.services.directory.search_units(query, limit=SEARCH_SHOWN + 1, within=within)
    return [Option(str(unit.id), unit.label) for unit in found]


async def _titles(turn: Turn[Any]) -> Sequence[Option]:
    return [Option(str(i.id), i.name) for i in await turn.services.directory.items("title")]


async def _genders(turn: Turn[Any]) -> Sequence[Option]:
    return [Option(g.value, turn.t(f"gender.{g.value}")) for g in Gender]


async def _common_ethnicities(turn: Turn[Any]) -> Sequence[Option]:
    common = await turn.services.directory.common_ethnicities()
    return [Option(str(e.id), e.name) for e in common]


async def _ethnicities(turn: Turn[Any], query: str) -> Sequence[Option]:
    found = await turn.services.directory.search_ethnicities(query, limit=SEARCH_SHOWN + 1)
    return [Option(str(e.id), e.name) for e in found]


class NameStep(TextStep[Any]):
    """The full name; one typed without any diacritics is questioned before it is taken."""

    async def on_text(self, turn: Turn[Any], text: str) -> Move:
        name = await turn.services.people.parse_field(ProfileField.FULL_NAME, text)
        if not lacks_diacritics(name):
            turn.draft.unmarked_name = None
            return await super().on_text(turn, text)
        turn.draft.unmarked_name = name
        await turn.say(
            turn.t("fields.unmarked_name", name=name),
            inline([[(turn.t("fields.name_is_right"), turn.choice("keep")),
                     (turn.t("fields.name_retype"), turn.choice("retype"))]]),
        )  # fmt: skip
        return Flow.STAY

    async def on_back(self, turn: Turn[Any]) -> bool:
        """Back from "is this name right?" is back to typing the name."""
        if turn.draft.unmarked_name is None:
            return False
        turn.draft.unmarked_name = None
        return True

    async def typed_labels(self, turn: Turn[Any]) -> Sequence[tuple[str, str]]:
        if turn.draft.unmarked_name is None:  # a name is asked for, not a yes or no
            return ()
        return [(turn.t("fields.name_is_right"), "keep"), (turn.t("fields.name_retype"), "retype")]

    async def on_choice(self, turn: Turn[Any], value: str) -> Move:
        name, turn.draft.unmarked_name = turn.draft.unmarked_name, None
        if value == "keep" and name is not None:
            self.store(turn, name)
            await turn.show(turn.t("fields.name_kept", name=name))
            return Flow.NEXT
        return Flow.REASK


class TitleStep(ChoiceStep[Any]):
    """The position: one of the list, none, or "Other", which asks for it to be typed."""

    async def ask(self, turn: Turn[Any]) -> None:
        turn.draft.title_typing = False
        await super().ask(turn)

    def _keyboard(self, turn: Turn[Any], offered: Sequence[Option]) -> Markup:
        other = Option(OTHER, turn.t("fields.title_other"))
        return super()._keyboard(turn, [*offered, other])

    async def on_choice(self, turn: Turn[Any], value: str) -> Move:
        if value != OTHER:
            turn.draft.title_other = None
            return await super().on_choice(turn, value)
        turn.draft.title_typing = True
        await turn.show(turn.t("fields.ask_title_other"))
        await turn.say(turn.t("fields.type_title"), back_cancel_keyboard(turn.ctx))
        return Flow.STAY

    async def on_back(self, turn: Turn[Any]) -> bool:
        """Back while typing a position not in the list is back to the list."""
        if not turn.draft.title_typing:
            return False
        turn.draft.title_typing = False
        return True

    async def typed_labels(self, turn: Turn[Any]) -> Sequence[tuple[str, str]]:
        listed = await super().typed_labels(turn)  # a listed one typed is the listed one
        if turn.draft.title_typing:  # already typing the position: "Other" is no answer
            return listed
        return [*listed, (turn.t("fields.title_other"), OTHER)]

    async def on_text(self, turn: Turn[Any], text: str) -> Move:
        """A position typed that is not one of the list's: taken as one not in it (as if
        "Other" had been tapped first)."""
        typed = await turn.services.people.parse_field(ProfileField.TITLE, OtherTitle(text))
        turn.draft.title_id, turn.draft.title_other = None, typed.text
        turn.draft.title_typing = False
        echo = turn.t("fields.title_typed", title=typed.text)
        await turn.say(echo, await turn.resting_keyboard())
        return Flow.NEXT


def chosen_title(answers: ProfileAnswers) -> int | OtherTitle | None:
    """The position answered: from the list, typed, or none."""
    if answers.title_other:
        return OtherTitle(answers.title_other)
    return answers.title_id


def profile_steps() -> list[Step[Any]]:
    """The six questions, in the order sign-up asks them; each step is named by its field's
    value (ProfileField), so a field and its question are found from each other."""
    return [
        NameStep(
            ProfileField.FULL_NAME.value, "full_name",
            prompt="fields.ask_name", parse=_parser(ProfileField.FULL_NAME),
        ),
        ChoiceStep(
            ProfileField.UNIT.value, "unit_id",
            prompt="fields.ask_unit", resolve=_parser(ProfileField.UNIT), search=unit_options,
            found="fields.unit_pick", none_found="fields.unit_none",
        ),
        TitleStep(
            ProfileField.TITLE.value, "title_id",
            prompt="fields.ask_title", options=_titles, resolve=_parser(ProfileField.TITLE),
            skip="fields.skip",
        ),
        ChoiceStep(
            ProfileField.GENDER.value, "gender",
            prompt="fields.ask_gender", options=_genders, resolve=_parser(ProfileField.GENDER),
            echo="fields.gender_saved", columns=2,
        ),
        TextStep(
            ProfileField.BIRTH_YEAR.value, "birth_year",
            prompt="fields.ask_birth_year", parse=_parser(ProfileField.BIRTH_YEAR),
            saved="fields.year_saved",
        ),
        ChoiceStep(
            ProfileField.ETHNICITY.value, "ethnicity_id",
            prompt="fields.ask_ethnicity", options=_common_ethnicities,
            resolve=_parser(ProfileField.ETHNICITY), search=_ethnicities,
            found="fields.ethnicity_pick", none_found="fields.ethnicity_none", columns=3,
            skip="fields.ethnicity_skip",
        ),
    ]  # fmt: skip
