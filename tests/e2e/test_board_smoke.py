from tests.e2e.board_world import board_world, signed_in
from tests.e2e.conftest import WorldFactory


async def test_smoke(make_world: WorldFactory) -> None:
    world = await board_world(make_world)
    session = await signed_in(world, "方磊")
    async with session.get(f"{world.board_url}/{world.instance_id}") as r:
        text = await r.text()
        print(r.status, len(text))
        open("/tmp/board.html", "w").write(text)
    await session.close()
