"""Elevator retrofits (加装电梯): residents' cost shares per household, exact to the fen, and candidate buildings.

Sharing follows "谁受益、谁出资": the residents' part (cost − subsidy) is split over the households of one
unit (单元, one staircase = one elevator) by a rule:

* ``"hangzhou"`` / ``"shanghai"`` — the presets in ``settings.ELEVATOR_SHARE_PRESETS``: the share of the
  residents' part paid by each floor (all its households together) for a 6-floor unit, floors 1–6.
  For a unit with fewer floors the floors above it are dropped and the remaining shares scaled to 100 %.
  A preset never covers more than 6 floors: a taller unit raises ``InputError`` (use ``"coefficient"``
  or a custom table) — the presets give no rule for floors 7+ and inventing one would misstate them.
  A preset table that does not add up to 100 % is scaled to 100 % (logged).
* ``"coefficient"`` — each household pays in proportion to coefficient × its floor area:
  ``settings.ELEVATOR_COEFFICIENTS`` (1–2F 0, 3F 0.7 … 9F 1.3), extended by +0.1 per floor above 9F.
* ``"custom"`` — a user table floor → value: with ``custom_kind="share"`` the share of each floor
  (fractions adding up to 1, or percentages adding up to 100; any other total is scaled to 100 % with a
  warning); with ``custom_kind="coefficient"`` a coefficient multiplied by floor area as above.

Within a floor the households of a share table split their floor's share equally. Amounts are integer fen
allocated by largest remainder (Hamilton): every household gets its exact share rounded down or up, and
the amounts add up exactly to cost − subsidy. Owners' own agreement always overrides a preset.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from numbers import Real
from typing import Literal

import numpy as np
import pandas as pd

from analytics import settings
from analytics.checks import check_frame
from analytics.errors import InputError

log = logging.getLogger(__name__)

Preset = Literal["hangzhou", "shanghai", "coefficient", "custom"]
PRESETS: tuple[str, ...] = ("hangzhou", "shanghai", "coefficient", "custom")
PRESET_MAX_FLOORS = 6
FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen
MAX_FLOORS = 40
MAX_HOUSEHOLDS_PER_FLOOR = 20
MAX_COST_WAN = 10_000.0
"""Largest elevator cost (and subsidy) the calculator takes, in 万元: a larger figure is a typing error."""
SHARE_COLUMNS = ["floor", "household", "floor_share", "share", "amount_fen", "amount_yuan", "floor_total_yuan"]
FLOOR_COLUMNS = ["floor", "households", "floor_share", "floor_total_yuan", "min_household_yuan", "max_household_yuan"]
CANDIDATE_COLUMNS = [
    "compound_id", "name", "county_code", "n_buildings", "candidate_buildings", "candidate_units",
    "households_candidate", "households_above_second", "est_cost_wan", "est_subsidy_wan", "building_ids",
]
_SUM_TOLERANCE = Fraction(1, 10**9)
_WARNED_PRESETS: set[str] = set()  # presets whose table does not add up to 100 % (logged once per process)


# ----------------------------------------------------------------------------------------------- checks
def _plain(value: object) -> object:
    """A numpy scalar as the Python value, so messages show ``0`` rather than ``np.int64(0)``."""
    return value.item() if isinstance(value, np.generic) else value


def _check_int(value: object, name: str, low: int, high: int, *, code: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"`{name}` was {value!r} but must be a whole number between {low} and {high}.",
                         code=code, low=low, high=high, value=str(value))
    if not low <= int(value) <= high:
        raise InputError(f"`{name}` was {int(value)!r} but must be between {low} and {high}.",
                         code=code, low=low, high=high, value=int(value))
    return int(value)


def _check_money(value: object, name: str, *, code: str | None = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InputError(f"`{name}` was {value!r} but must be a finite amount in 万元, e.g. 45.0.")
    amount = float(value)
    if not math.isfinite(amount):  # NaN or infinity: said with the range
        raise InputError(f"`{name}` was {value!r} but must be a finite amount in 万元, e.g. 45.0.",
                         code=code, low=0, high=MAX_COST_WAN, value=amount)
    if not 0 <= amount <= MAX_COST_WAN:
        raise InputError(f"`{name}` was {value!r} but must be between 0 and {MAX_COST_WAN:g} (万元).",
                         code=code, low=0, high=MAX_COST_WAN, value=amount)
    return Decimal(repr(amount))


def check_unit(floors: object, households_per_floor: object, *, cost_wan: object,
               subsidy_wan: object) -> tuple[int, int, Decimal, Decimal]:
    """Check the calculator's numbers; return ``(floors, households_per_floor, cost, subsidy)``.

    Floors 2–40, households per floor 1–20, cost above 0 and at most ``MAX_COST_WAN`` 万元, subsidy 0 to
    the cost. A number out of range is refused with an ``InputError`` saying the allowed range, never
    clamped. Money is returned as exact decimals.
    """
    floors = _check_int(floors, "floors", 2, MAX_FLOORS, code="elevator.floors_range")
    households = _check_int(households_per_floor, "households_per_floor", 1, MAX_HOUSEHOLDS_PER_FLOOR,
                            code="elevator.hpf_range")
    cost = _check_money(cost_wan, "cost_wan", code="elevator.cost_range")
    subsidy = _check_money(subsidy_wan, "subsidy_wan", code="elevator.subsidy_range")
    if cost <= 0:
        raise InputError(f"`cost_wan` was {cost_wan!r} but must be > 0 (万元).", code="elevator.cost_zero")
    if subsidy > cost:
        raise InputError(f"`subsidy_wan` was {float(subsidy)!r} but must not exceed `cost_wan` {float(cost)!r}.",
                         code="elevator.subsidy_above_cost", subsidy=float(subsidy), cost=float(cost))
    return floors, households, cost, subsidy


def _blank(value: object) -> bool:
    """A cell left empty: ``None`` or NaN."""
    return value is None or (isinstance(value, Real) and not isinstance(value, bool) and math.isnan(value))


def _exact(value: object, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InputError(f"`{name}` was {value!r} but must be a finite number ≥ 0.")
    if value < 0:
        raise InputError(f"`{name}` was {value!r} but must be ≥ 0.")
    return Fraction(repr(float(value)))


def default_subsidy_wan(floors: int) -> float:
    """Government subsidy per unit in 万元 for a unit of ``floors`` storeys (soft, ``settings``): 0 below 4 floors."""
    table = settings.ELEVATOR_SUBSIDY_WAN_BY_FLOORS
    eligible = [f for f in table if f <= floors]
    return float(table[max(eligible)]) if eligible else 0.0


def coefficient(floor: int) -> Fraction:
    """Sharing coefficient of ``floor`` (``settings.ELEVATOR_COEFFICIENTS``, +0.1 per floor above the table)."""
    table = settings.ELEVATOR_COEFFICIENTS
    top = max(table)
    if floor in table:
        return Fraction(repr(float(table[floor])))
    return Fraction(repr(float(table[top]))) + Fraction(floor - top, 10)


# ----------------------------------------------------------------------------------------------- weights
def _preset_floor_shares(preset: str, floors: int) -> dict[int, Fraction]:
    table = settings.ELEVATOR_SHARE_PRESETS[preset]
    if floors > PRESET_MAX_FLOORS:
        raise InputError(
            f"`preset` {preset!r} covers floors 1–{PRESET_MAX_FLOORS} but the unit has {floors} floors; use "
            "preset='coefficient' or a custom table for taller buildings.",
            code="elevator.preset_floors", preset=preset, floors=floors,
        )
    shares = {f: Fraction(repr(float(table.get(f, 0.0)))) for f in range(1, PRESET_MAX_FLOORS + 1)}
    total = sum(shares.values(), Fraction(0))
    if abs(total - 1) > _SUM_TOLERANCE and preset not in _WARNED_PRESETS:
        _WARNED_PRESETS.add(preset)
        log.warning("elevator preset %r adds up to %s %%, not 100 %%; its shares are scaled to 100 %%",
                    preset, float(total * 100))
    return {f: shares[f] for f in range(1, floors + 1)}


def _custom_table(custom: object, floors: int, kind: str) -> dict[int, Fraction]:
    if isinstance(custom, pd.DataFrame):
        check_frame(custom, "custom", required=("floor", "value"))
        floor_numbers = pd.to_numeric(custom["floor"], errors="coerce")
        if floor_numbers.isna().any() or (floor_numbers != floor_numbers.round()).any():
            raise InputError(f"`custom.floor` has {custom['floor'].tolist()!r} but floors must be whole numbers.")
        if floor_numbers.duplicated().any():
            raise InputError(f"`custom.floor` has {custom['floor'].tolist()!r}; each floor may appear once.")
        custom = dict(zip(floor_numbers.astype("int64").tolist(), pd.to_numeric(custom["value"], errors="coerce")))
    if not isinstance(custom, Mapping):
        raise InputError(
            f"`custom` was a {type(custom).__name__} but must be a dict floor → value or a DataFrame with "
            "columns `floor` and `value`."
        )
    values = {_check_int(floor, "custom floor", 1, MAX_FLOORS): value for floor, value in custom.items()}
    extra = sorted(f for f in values if f > floors)
    if extra:
        raise InputError(f"`custom` has floors {extra!r} but the unit has only {floors} floors; remove them.")
    missing = [f for f in range(1, floors + 1) if f not in values]
    blank = sorted(missing + [f for f, v in values.items() if _blank(v)])
    if blank:
        what = f"lacks floors {missing!r}" if blank == missing else f"has no value for floors {blank!r}"
        raise InputError(f"`custom` {what}; give a value for every floor 1–{floors} (0 for none).",
                         code="elevator.custom_empty", floors=blank)
    negative = [f for f in sorted(values) if isinstance(values[f], Real) and values[f] < 0]
    if negative:
        raise InputError(f"`custom[{negative[0]}]` was {values[negative[0]]!r} but must be ≥ 0.",
                         code="elevator.custom_negative", floors=negative)
    table = {floor: _exact(value, f"custom[{floor}]") for floor, value in values.items()}
    if sum(table.values()) == 0:
        raise InputError("`custom` values are all 0; at least one floor must pay.", code="elevator.custom_zero")
    if kind == "share":
        total = sum(table.values(), Fraction(0))
        if abs(total - 1) > _SUM_TOLERANCE and abs(total - 100) > _SUM_TOLERANCE * 100:
            warnings.warn(
                f"`custom` shares add up to {float(total)!r}, not 1 (100 %); they were scaled to 100 %.",
                UserWarning,
                stacklevel=3,
            )
    return table


def _areas(floor_area_m2: object, households_per_floor: int) -> list[Fraction]:
    if floor_area_m2 is None:
        return [Fraction(1)] * households_per_floor
    if isinstance(floor_area_m2, Real) and not isinstance(floor_area_m2, bool):
        values = [floor_area_m2] * households_per_floor
    elif isinstance(floor_area_m2, Sequence | np.ndarray | pd.Series) and not isinstance(floor_area_m2, str):
        values = list(floor_area_m2)
        if len(values) != households_per_floor:
            raise InputError(
                f"`floor_area_m2` has {len(values)} values but the unit has {households_per_floor} households per "
                "floor; give one area per household position or a single number."
            )
    else:
        raise InputError(f"`floor_area_m2` was {floor_area_m2!r} but must be m² per household (a number or a list).")
    bad = [i for i, v in enumerate(values, start=1) if _blank(v) or (isinstance(v, Real) and v <= 0)]
    if bad:
        raise InputError(f"`floor_area_m2` was {floor_area_m2!r} but every area must be > 0 m².",
                         code="elevator.areas", positions=bad)
    return [_exact(v, "floor_area_m2") for v in values]


def _household_weights(
    floors: int, households_per_floor: int, preset: str, custom: object, custom_kind: str, floor_area_m2: object,
) -> dict[tuple[int, int], Fraction]:
    """(floor, household) -> relative weight of that household's part."""
    if preset in ("hangzhou", "shanghai") or (preset == "custom" and custom_kind == "share"):
        shares = (_preset_floor_shares(preset, floors) if preset != "custom"
                  else _custom_table(custom, floors, "share"))
        return {(f, h): shares[f] / households_per_floor
                for f in range(1, floors + 1) for h in range(1, households_per_floor + 1)}
    coefs = ({f: coefficient(f) for f in range(1, floors + 1)} if preset == "coefficient"
             else _custom_table(custom, floors, "coefficient"))
    areas = _areas(floor_area_m2, households_per_floor)
    return {(f, h): coefs[f] * areas[h - 1] for f in range(1, floors + 1) for h in range(1, households_per_floor + 1)}


def _largest_remainder(total_fen: int, weights: dict[tuple[int, int], Fraction]) -> dict[tuple[int, int], int]:
    """Integer fen per key adding up to ``total_fen``.

    Leftover fen go to the largest remainders (ties: higher floor first, then lower household number).
    """
    weight_sum = sum(weights.values())
    exact = {k: total_fen * w / weight_sum for k, w in weights.items()}
    base = {k: math.floor(v) for k, v in exact.items()}
    left = total_fen - sum(base.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - base[k]), -k[0], k[1]))
    for k in order[:left]:
        base[k] += 1
    return base


# ----------------------------------------------------------------------------------------------- public
def share_costs(
    floors: int,
    households_per_floor: int,
    *,
    cost_wan: float = settings.ELEVATOR_COST_WAN,
    subsidy_wan: float | None = None,
    preset: Preset = "hangzhou",
    custom: Mapping[int, float] | pd.DataFrame | None = None,
    custom_kind: Literal["share", "coefficient"] = "share",
    floor_area_m2: float | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Each household's part of an elevator's cost for one unit, in yuan, adding up exactly to cost − subsidy.

    Parameters
    ----------
    floors
        Storeys of the unit (2–40).
    households_per_floor
        Households on each floor of the unit (1–20).
    cost_wan
        Total cost of the elevator in 万元 (default ``settings.ELEVATOR_COST_WAN``, 45), rounded to the fen.
    subsidy_wan
        Government subsidy in 万元 (≤ cost); default ``default_subsidy_wan(floors)`` (16/18/20 for 4/5/6+ floors).
    preset
        ``"hangzhou"``, ``"shanghai"``, ``"coefficient"`` or ``"custom"`` (see the module docstring).
    custom
        With ``preset="custom"`` only: floor → value, as a dict or a DataFrame with ``floor`` and ``value``;
        every floor 1…``floors`` must be present (0 for floors that do not pay).
    custom_kind
        ``"share"`` (values are floor shares) or ``"coefficient"`` (values × floor area per household).
    floor_area_m2
        Floor area per household in m² for coefficient rules: one number for all, or one per household
        position on a floor (the same on every floor); ``None`` = equal areas. Ignored by share rules.

    Returns
    -------
    DataFrame
        One row per household, floor 1 first: ``floor``, ``household`` (1…households_per_floor),
        ``floor_share`` (the floor's fraction of the residents' part), ``share`` (the household's fraction),
        ``amount_fen`` (int), ``amount_yuan`` (= amount_fen / 100) and ``floor_total_yuan``. ``amount_fen``
        adds up exactly to (cost − subsidy) in fen. ``attrs`` holds ``cost_yuan``, ``subsidy_yuan``,
        ``residents_yuan`` and ``preset``.

    Raises
    ------
    InputError
        Bad floors, households, money (negative, not finite, subsidy above cost), unknown preset, a preset
        on more than 6 floors, ``custom`` given without ``preset="custom"`` (or missing with it), a custom
        table missing floors / with extra floors / all zero, bad floor areas.

    Warns
    -----
    UserWarning
        A custom share table adds up to neither 1 nor 100; it is scaled to 100 %.
    """
    floors, households_per_floor, cost, subsidy = check_unit(
        floors, households_per_floor, cost_wan=cost_wan,
        subsidy_wan=default_subsidy_wan(floors) if subsidy_wan is None and isinstance(floors, int | np.integer)
        else subsidy_wan)
    if preset not in PRESETS:
        raise InputError(f"`preset` was {preset!r} but must be one of {PRESETS!r}.")
    if custom_kind not in ("share", "coefficient"):
        raise InputError(f"`custom_kind` was {custom_kind!r} but must be 'share' or 'coefficient'.")
    if preset == "custom" and custom is None:
        raise InputError("`custom` was None but preset='custom' needs a table floor → value.")
    if preset != "custom" and custom is not None:
        raise InputError(f"`custom` was given but `preset` is {preset!r}; set preset='custom' to use the table.")
    cost_fen = int((cost * FEN_PER_WAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    subsidy_fen = int((subsidy * FEN_PER_WAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    total_fen = cost_fen - subsidy_fen

    weights = _household_weights(floors, households_per_floor, preset, custom, custom_kind, floor_area_m2)
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        raise InputError(
            f"Under `preset` {preset!r} nobody on floors 1–{floors} pays; choose another rule for this unit.",
            code="elevator.nobody_pays", preset=preset, floors=floors,
        )
    fen = _largest_remainder(total_fen, weights)
    keys = sorted(weights)
    floor_weight = {f: sum(w for (ff, _), w in weights.items() if ff == f) for f in range(1, floors + 1)}
    frame = pd.DataFrame({
        "floor": [k[0] for k in keys],
        "household": [k[1] for k in keys],
        "floor_share": [float(floor_weight[k[0]] / weight_sum) for k in keys],
        "share": [float(weights[k] / weight_sum) for k in keys],
        "amount_fen": np.array([fen[k] for k in keys], dtype="int64"),
    })
    frame["amount_yuan"] = frame["amount_fen"] / 100
    frame["floor_total_yuan"] = frame.groupby("floor")["amount_fen"].transform("sum") / 100
    frame.attrs.update({"cost_yuan": cost_fen / 100, "subsidy_yuan": subsidy_fen / 100,
                        "residents_yuan": total_fen / 100, "preset": preset})
    return frame[SHARE_COLUMNS]


def shares_by_floor(shares: pd.DataFrame) -> pd.DataFrame:
    """Per floor: households, the floor's share, its total and the smallest / largest household amount (yuan)."""
    check_frame(shares, "shares", required=SHARE_COLUMNS)
    out = shares.groupby("floor", as_index=False).agg(
        households=("household", "size"), floor_share=("floor_share", "first"),
        floor_total_yuan=("floor_total_yuan", "first"), min_household_yuan=("amount_yuan", "min"),
        max_household_yuan=("amount_yuan", "max"),
    )
    return out[FLOOR_COLUMNS]


def elevator_candidates(
    buildings: pd.DataFrame,
    compounds: pd.DataFrame | None = None,
    *,
    min_floors: int = 4,
    cost_per_unit_wan: float = settings.ELEVATOR_COST_WAN,
) -> pd.DataFrame:
    """Compounds with buildings that could take an elevator retrofit (≥ ``min_floors`` floors, none yet).

    Parameters
    ----------
    buildings
        (Geo)DataFrame with ``id, compound_id, floors, units, households_per_floor, has_elevator``
        (a missing ``has_elevator`` counts as no elevator); ``county_code`` is used when ``compounds`` is
        not given. No geometry is needed.
    compounds
        Optional (Geo)DataFrame with ``id`` and ``name`` (and ``county_code``) to name the compounds.
    min_floors
        Smallest building height in storeys that counts as a candidate (default 4).
    cost_per_unit_wan
        Cost estimate per elevator in 万元 (default ``settings.ELEVATOR_COST_WAN``).

    Returns
    -------
    DataFrame
        One row per compound with at least one candidate building, most households above the second floor
        first: ``compound_id, name, county_code, n_buildings`` (all its buildings),
        ``candidate_buildings``, ``candidate_units`` (elevators needed: one per unit/staircase),
        ``households_candidate`` (households in candidate buildings, floors × units × households per floor),
        ``households_above_second`` (households on floor 3 and up: households_per_floor × units ×
        (floors − 2), which equals households × (floors − 2) / floors), ``est_cost_wan`` (units × cost per
        unit) and ``est_subsidy_wan`` (units × ``default_subsidy_wan(floors)``), both 万元, and
        ``building_ids`` (list). Empty (same columns) when there is none.

    Raises
    ------
    InputError
        Missing columns; floors, units or households per floor not whole numbers ≥ 1; bad ``min_floors``.
    """
    check_frame(buildings, "buildings",
                required=("id", "compound_id", "floors", "units", "households_per_floor", "has_elevator"))
    min_floors = _check_int(min_floors, "min_floors", 3, MAX_FLOORS)
    cost = float(_check_money(cost_per_unit_wan, "cost_per_unit_wan"))
    frame = pd.DataFrame(buildings).drop(columns=[c for c in ("geometry", "geom") if c in buildings.columns])
    for col in ("floors", "units", "households_per_floor"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values < 1) | (values != values.round())
        if bad.any():
            i = bad.idxmax()
            raise InputError(
                f"`buildings.{col}` was {_plain(frame.at[i, col])!r} for {_plain(frame.at[i, 'id'])!r} but must be a "
                "whole number ≥ 1."
            )
        frame[col] = values.astype("int64")
    has = frame["has_elevator"].astype("boolean").fillna(False).astype(bool)
    frame["candidate"] = (frame["floors"] >= min_floors) & ~has
    cand = frame[frame["candidate"]].copy()
    cand["households_candidate"] = cand["floors"] * cand["units"] * cand["households_per_floor"]
    cand["households_above_second"] = cand["households_per_floor"] * cand["units"] * (cand["floors"] - 2)
    cand["est_cost_wan"] = cand["units"] * cost
    cand["est_subsidy_wan"] = cand["units"] * cand["floors"].map(default_subsidy_wan)
    out = cand.groupby("compound_id", sort=False).agg(
        candidate_buildings=("id", "size"), candidate_units=("units", "sum"),
        households_candidate=("households_candidate", "sum"), households_above_second=("households_above_second", "sum"),
        est_cost_wan=("est_cost_wan", "sum"), est_subsidy_wan=("est_subsidy_wan", "sum"),
        building_ids=("id", list),
    ).reset_index()
    out["n_buildings"] = out["compound_id"].map(frame.groupby("compound_id").size()).astype("int64")
    if compounds is not None:
        check_frame(compounds, "compounds", required=("id", "name"))
        info = pd.DataFrame(compounds).set_index("id")
        out["name"] = out["compound_id"].map(info["name"])
        county = info["county_code"] if "county_code" in info else None
        out["county_code"] = out["compound_id"].map(county) if county is not None else None
    else:
        out["name"] = None
        out["county_code"] = (out["compound_id"].map(frame.groupby("compound_id")["county_code"].first())
                              if "county_code" in frame else None)
    out = out.sort_values(["households_above_second", "compound_id"], ascending=[False, True], kind="stable")
    log.info("elevator candidates: %d buildings in %d compounds", len(cand), len(out))
    return out[CANDIDATE_COLUMNS].reset_index(drop=True)
