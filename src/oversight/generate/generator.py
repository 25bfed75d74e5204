"""``build(villages, seed, scale) -> Batch``: the whole demo district in memory."""

from __future__ import annotations

from .activity import Activity
from .finish import finish
from .model import Batch
from .plant import Planter
from .world import World


def build(villages: int = 150, seed: int = 42, scale: float = 1.0) -> Batch:
    """One district, two years of village activity, planted anomalies and the truth about them.

    Deterministic for ``(villages, seed, scale)``.  ``scale`` multiplies the
    volume of activity rows; the register and the planted cases do not grow
    with it.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    world = World(villages, seed, scale)
    world.build_regions()
    world.build_persons()
    world.build_officials()
    world.mark_insiders()
    world.build_companies()
    act = Activity(world)
    act.setup()
    planter = Planter(world, act)
    planter.namesakes()
    act.projects_and_decisions()
    act.labor()
    act.subsidies()
    act.leases()
    act.deposits()
    act.payments()
    planter.plant()
    return finish(world, act, planter)
