"""Shared fixtures: a tiny hand-checkable world, and Hydra state cleanup."""

from __future__ import annotations

import pandas as pd
import pytest
from hydra.core.global_hydra import GlobalHydra

from alignment_sim import default_config
from alignment_sim.model.params import (
    AffinitySpec,
    PoleSpec,
    RegionSpec,
    ScenarioSpec,
    SimulationConfig,
    StateSpec,
)
from alignment_sim.model.world import World, build_world

# Three choosers on the equator; pole p at longitude 0, pole q at longitude 10 (1111.95 km).
TINY_ATTRIBUTES = {
    # state: (lat, lon, gdp US$, cinc, polity2, remittances %GDP, trade_p %, trade_q %)
    "A": (0.0, 0.0, 10e9, 0.01, -10, 20.0, 40.0, 10.0),
    "B": (0.0, 10.0, 20e9, 0.02, 10, 0.0, 10.0, 50.0),
    "C": (0.0, 5.0, 5e9, 0.01, 0, 10.0, 25.0, 25.0),
}
KM_PER_10_DEGREES = 2 * 3.141592653589793 * 6371.0 * 10 / 360


def tiny_attributes() -> pd.DataFrame:
    rows = []
    fields = (
        "capital_lat",
        "capital_lon",
        "gdp_current_usd",
        "cinc",
        "polity2",
        "remittances_received_pct_gdp",
        "trade_p_pct",
        "trade_q_pct",
    )
    for state, values in TINY_ATTRIBUTES.items():
        for name, value in zip(fields, values, strict=True):
            year = "" if name.startswith("capital") else "2015"
            rows.append(
                {
                    "state": state,
                    "year": year,
                    "field": name,
                    "value": str(value),
                    "unit": "",
                    "source": "test fixture",
                }
            )
    frame = pd.DataFrame(rows)
    frame["year"] = pd.to_numeric(frame["year"], errors="coerce")
    return frame


def tiny_region() -> RegionSpec:
    return RegionSpec(
        name="tiny",
        year=2015,
        tick_months=3,
        poles=[
            PoleSpec(
                name="p",
                capital_lat=0.0,
                capital_lon=0.0,
                capability=0.5,
                trade_field="trade_p_pct",
                military_weight=1.0,
                reach_km=1000.0,
                budget_bn_usd=1.0,
                credibility=0.5,
                conditionality=0.0,
                regime_support=0.5,
                soft_power=0.5,
                soft_power_floor=1.0,
                coercion=0.5,
                escalation=1.0,
                leverage=1.0,
            ),
            PoleSpec(
                name="q",
                capital_lat=0.0,
                capital_lon=10.0,
                capability=0.25,
                trade_field="trade_q_pct",
                military_weight=0.5,
                reach_km=1000.0,
                budget_bn_usd=2.0,
                credibility=1.0,
                conditionality=1.0,
                regime_support=0.0,
                soft_power=0.0,
                coercion=0.0,
                leverage=0.0,
            ),
        ],
        states=[
            StateSpec(
                name="a",
                attribute_state="A",
                threat_exposure=1.0,
                remittance_origin={"p": 1.0},
                transit={"p": 0.5},
                presence={"p": 0.5},
                initial={"2015": "p"},
            ),
            StateSpec(
                name="b",
                attribute_state="B",
                threat_exposure=0.0,
                transit={"q": 1.0},
                initial={"2015": "q"},
            ),
            StateSpec(
                name="c",
                attribute_state="C",
                threat_exposure=0.5,
                autonomy=1.0,
                remittance_origin={"p": 0.5, "q": 0.5},
                initial={"2015": "hedge"},
            ),
        ],
        affinities=[
            AffinitySpec(a="a", b="b", value=-1.0, reason="test rivals"),
            AffinitySpec(a="a", b="c", value=0.5, reason="test friends"),
        ],
    )


@pytest.fixture
def tiny_world() -> World:
    region = tiny_region()
    region.validate()
    return build_world(region, tiny_attributes())


@pytest.fixture(scope="session")
def default_world() -> World:
    """The default region's world (11 choosers, 3 poles, 2015 data)."""
    return build_world(default_config().region)


@pytest.fixture
def tiny_config() -> SimulationConfig:
    return SimulationConfig(region=tiny_region(), scenario=ScenarioSpec(), ticks=10, seed=3)


@pytest.fixture(autouse=True)
def clear_hydra():
    yield
    GlobalHydra.instance().clear()
