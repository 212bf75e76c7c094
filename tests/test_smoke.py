from tests.conftest import World


def test_world_builds(world: World) -> None:
    assert world.alice.organisation == world.cn_health
    assert world.alice.has_role("focal_point")
    assert not world.eve.is_active
