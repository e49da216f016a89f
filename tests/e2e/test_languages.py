"""Which language the bot answers in (issue 16): the member's own choice, else the platform's
language if supported, else the plan's locale (in a group, the group's plan), else the
server's default."""

from __future__ import annotations

from bot.sandbox.telegram.people import SimulatedPerson, contains
from tests.e2e.conftest import WorldFactory, en, zh

HELP = "Commands you can use here:"


def english_plan(text: str, _ids: dict[str, int]) -> str:
    """The seed plan in English, with 唐军 choosing Chinese for himself."""
    text = text.replace('locale = "zh_CN"', 'locale = "en"', 1)
    return text.replace('name = "唐军"\n', 'name = "唐军"\nlocale = "zh_CN"\n', 1)


async def test_the_language_order_in_private_and_in_the_group(make_world: WorldFactory) -> None:
    world = await make_world(edit_plan=english_plan)
    await world.bind("孟平", "唐军")
    emulator, people = world.emulator, world.people

    # A language Huiwu does not speak, or none: the plan's language, in private and in the group.
    for language in ("de", None):
        emulator.set_language(world.user_ids["孟平"], language)
        await people["孟平"].say("/help", expect=contains(en(HELP)))
        await people["孟平"].say("/help", group=world.group, expect=contains(en(HELP)))
    # A supported platform language wins over the plan's.
    emulator.set_language(world.user_ids["孟平"], "zh-hans")
    await people["孟平"].say("/help", expect=contains(zh(HELP)))
    # The member's own choice wins over both.
    emulator.set_language(world.user_ids["唐军"], "en")
    await people["唐军"].say("/help", expect=contains(zh(HELP)))
    await people["唐军"].say("/help", group=world.group, expect=contains(zh(HELP)))


async def test_a_stranger_in_an_unknown_language_gets_the_server_default(
    make_world: WorldFactory,
) -> None:
    world = await make_world(edit_plan=english_plan)
    stranger = world.emulator.add_user("Fremder", language_code="de")

    person = SimulatedPerson(world.emulator, stranger, "Fremder")
    await person.say("/help", expect=contains(zh(HELP)))
