"""Project priority (项目生成机制): a transparent weighted score per eligible compound, and who is ineligible and why.

The 2020 implementation plan ranks candidate projects by building condition, the share of households
contributing money, the expected benefit and how complete the procedures are, and at equal conditions
puts residents' willingness first. Each criterion becomes a component between 0 and 1:

* ``c_age`` — building age (stands for condition): (as_of_year − built_year) ÷ the oldest eligible
  compound's age;
* ``c_willingness`` — residents agreeing: willingness_pct ÷ 100;
* ``c_contributing`` — households contributing money: contributing_pct ÷ 100;
* ``c_procedures`` — procedures complete: 1, else 0;
* ``c_benefit`` — expected benefit: households ÷ the largest eligible compound's households.

``score`` = Σ weight × component with the weights normalised to add up to 1, so the score is 0–1 too;
the weighted parts are ``part_<component>`` and add up to ``score``. Age and benefit are relative to the
eligible compounds passed in, so scores compare compounds within one call.

Eligibility (2020 plan): built on or before ``settings.ELIGIBLE_BUILT_ON_OR_BEFORE`` (2005-12-31) and not
planned for demolition (``demolition_planned``). Ineligible compounds are returned in their own frame
with every reason that applies; none is dropped silently.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from datetime import date
from numbers import Real
from typing import NamedTuple

import numpy as np
import pandas as pd

from analytics import settings
from analytics.checks import check_frame
from analytics.errors import InputError

log = logging.getLogger(__name__)

COMPONENTS: tuple[str, ...] = ("age", "willingness", "contributing", "procedures", "benefit")
# Defaults: building condition first, then money, benefit and procedures; willingness also breaks ties.
DEFAULT_WEIGHTS: dict[str, float] = {
    "age": 0.25, "willingness": 0.15, "contributing": 0.20, "procedures": 0.20, "benefit": 0.20,
}
REQUIRED = ("id", "name", "built_year", "households", "willingness_pct", "contributing_pct",
            "procedures_complete", "demolition_planned")
PASSTHROUGH = ("county_code", "zone_code", "plan_year", "status")
COMPONENT_COLUMNS = [f"c_{c}" for c in COMPONENTS]
PART_COLUMNS = [f"part_{c}" for c in COMPONENTS]
INELIGIBLE_COLUMNS = ["id", "name", "reason", "built_year", "demolition_planned"]

# Reason codes of the ineligible frame -> (Chinese, English), for display.
INELIGIBLE_REASONS: dict[str, tuple[str, str]] = {
    "built_after_cutoff": (
        f"建成于{settings.ELIGIBLE_BUILT_ON_OR_BEFORE:%Y年%m月%d日}之后",
        f"Built after {settings.ELIGIBLE_BUILT_ON_OR_BEFORE.isoformat()}",
    ),
    "built_year_missing": ("建成年代不详", "Year built unknown"),
    "demolition_planned": ("已列入征收拆除计划", "Planned for demolition"),
}
# Inputs whose missing values count as 0 in their component (with a warning).
_COMPONENT_INPUT = {"willingness": "willingness_pct", "contributing": "contributing_pct",
                    "procedures": "procedures_complete", "benefit": "households"}
_SCORE_DECIMALS = 12


class PriorityResult(NamedTuple):
    """``ranked``: eligible compounds best first; ``ineligible``: the others with their reasons."""

    ranked: pd.DataFrame
    ineligible: pd.DataFrame


def normalise_weights(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Weights for every component, scaled to add up to 1.

    Parameters
    ----------
    weights
        Component → weight (any non-negative numbers; components not given weigh 0). ``None`` gives
        ``DEFAULT_WEIGHTS``. Components: ``"age"``, ``"willingness"``, ``"contributing"``,
        ``"procedures"``, ``"benefit"``.

    Returns
    -------
    dict
        Every component → its share of the total weight (fractions adding up to 1).

    Raises
    ------
    InputError
        Not a mapping; an unknown component; a weight that is negative, not a finite number; all weights 0.
    """
    if weights is None:
        weights = DEFAULT_WEIGHTS
    if not isinstance(weights, Mapping):
        raise InputError(f"`weights` was a {type(weights).__name__} but must be a dict such as {{'age': 2, 'benefit': 1}}.")
    unknown = [k for k in weights if k not in COMPONENTS]
    if unknown:
        raise InputError(f"`weights` has unknown component(s) {unknown!r}; use {list(COMPONENTS)!r}.")
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise InputError(f"`weights[{key!r}]` was {value!r} but must be a finite number ≥ 0.")
        if value < 0:
            raise InputError(f"`weights[{key!r}]` was {value!r} but must be ≥ 0.")
    total = float(sum(weights.values()))
    if total <= 0:
        raise InputError(f"`weights` were {dict(weights)!r} but at least one must be > 0.", code="weights_zero")
    return {c: float(weights.get(c, 0.0)) / total for c in COMPONENTS}


def _check_compounds(compounds: object) -> pd.DataFrame:
    check_frame(compounds, "compounds", required=REQUIRED)
    frame = pd.DataFrame(compounds)
    frame = frame.drop(columns=[c for c in ("geometry", "geom") if c in frame.columns])
    if frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise InputError(f"`compounds` has duplicate id {dup!r}; ids must be unique.")
    for col in ("built_year", "households", "willingness_pct", "contributing_pct"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            raise InputError(f"`compounds.{col}` has non-numeric value {frame.loc[bad, col].iloc[0]!r}; use numbers.")
        frame[col] = values.astype("float64")
    for col in ("willingness_pct", "contributing_pct"):
        out = ~frame[col].between(0, 100) & frame[col].notna()
        if out.any():
            i = out.idxmax()
            raise InputError(
                f"`compounds.{col}` was {float(frame.at[i, col])!r} for {frame.at[i, 'id']!r} but must be between 0 and 100 (%)."
            )
    negative = frame["households"] < 0
    if negative.any():
        i = negative.idxmax()
        raise InputError(f"`compounds.households` was {float(frame.at[i, 'households'])!r} for {frame.at[i, 'id']!r} but must be ≥ 0.")
    return frame


def _join_codes(flags: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per row, the codes whose flag is true joined by ";" ("" when none)."""
    out = pd.Series("", index=index, dtype="object")
    for code, flag in flags.items():
        sep = np.where(out != "", ";", "")
        out = out.where(~flag.to_numpy(bool), out + sep + code)
    return out


def priority_scores(
    compounds: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    as_of_year: int | None = None,
) -> PriorityResult:
    """Score and rank eligible compounds for the next batch; list the ineligible ones with their reasons.

    Parameters
    ----------
    compounds
        (Geo)DataFrame with ``id, name, built_year, households, willingness_pct`` (%),
        ``contributing_pct`` (%), ``procedures_complete`` (bool) and ``demolition_planned`` (bool; missing
        = not planned). ``county_code, zone_code, plan_year, status`` are carried through when present.
    weights
        Component → weight, normalised to add up to 1 (see ``normalise_weights``); default ``DEFAULT_WEIGHTS``.
    as_of_year
        Year the building age is measured at (age = as_of_year − built_year, years); default this year.

    Returns
    -------
    PriorityResult
        ``ranked`` — eligible compounds, best first: ``id, name``, carried-through columns,
        ``built_year, age_years, households, willingness_pct, contributing_pct, procedures_complete``,
        the components ``c_age … c_benefit`` (0–1, see the module docstring), the weighted parts
        ``part_age … part_benefit`` (weight × component; they add up to ``score``), ``score`` (0–1),
        ``rank`` (1 = first; sorted by score, then willingness — the plan's tie-breaker — and compounds
        equal on both share a rank) and ``missing_inputs`` (inputs that were missing and counted as 0,
        joined by ``";"``, else ""). ``ineligible`` — ``id, name, reason, built_year,
        demolition_planned`` (plus carried-through columns): ``reason`` is ``"built_after_cutoff"``,
        ``"built_year_missing"`` and/or ``"demolition_planned"`` joined by ``";"`` (labels in
        ``INELIGIBLE_REASONS``). Both frames keep their columns when empty.

    Raises
    ------
    InputError
        Not a DataFrame; missing columns; duplicate ids; non-numeric or out-of-range values (percentages
        outside 0–100, negative households); bad ``weights``; ``as_of_year`` not a year or earlier than an
        eligible compound's ``built_year``.

    Warns
    -----
    UserWarning
        Some compounds lack willingness, contributing share, procedures or households; those components
        count as 0 for them (listed in ``missing_inputs``).
    """
    frame = _check_compounds(compounds)
    w = normalise_weights(weights)
    if as_of_year is None:
        as_of_year = date.today().year
    if isinstance(as_of_year, bool) or not isinstance(as_of_year, int | np.integer) or not 1900 <= as_of_year <= 2100:
        raise InputError(f"`as_of_year` was {as_of_year!r} but must be a whole year between 1900 and 2100.")
    carried = [c for c in PASSTHROUGH if c in frame.columns]

    cutoff = settings.ELIGIBLE_BUILT_ON_OR_BEFORE.year
    demolition = frame["demolition_planned"].astype("boolean").fillna(False).astype(bool)
    reason = _join_codes({
        "built_after_cutoff": frame["built_year"] > cutoff,
        "built_year_missing": frame["built_year"].isna(),
        "demolition_planned": demolition,
    }, frame.index)
    eligible_mask = reason == ""

    ineligible = frame.loc[~eligible_mask, ["id", "name", "built_year"] + carried].copy()
    ineligible["reason"] = reason[~eligible_mask]
    ineligible["demolition_planned"] = demolition[~eligible_mask]
    ineligible = ineligible[INELIGIBLE_COLUMNS + carried].sort_values("id").reset_index(drop=True)
    ineligible["built_year"] = ineligible["built_year"].astype("Int64")

    el = frame[eligible_mask].copy()
    if len(el) and as_of_year < el["built_year"].max():
        raise InputError(
            f"`as_of_year` was {as_of_year!r} but eligible compounds were built as late as "
            f"{int(el['built_year'].max())}; use a later year."
        )
    el["age_years"] = as_of_year - el["built_year"]
    max_age = el["age_years"].max() if len(el) else 0.0
    max_households = el["households"].max() if el["households"].notna().any() else 0.0
    el["c_age"] = el["age_years"] / max_age if max_age > 0 else 0.0
    el["c_willingness"] = el["willingness_pct"].fillna(0.0) / 100.0
    el["c_contributing"] = el["contributing_pct"].fillna(0.0) / 100.0
    el["c_procedures"] = el["procedures_complete"].astype("boolean").fillna(False).astype("float64")
    el["c_benefit"] = el["households"].fillna(0.0) / max_households if max_households > 0 else 0.0
    for comp in COMPONENTS:
        el[f"part_{comp}"] = w[comp] * el[f"c_{comp}"].astype("float64")
    el["score"] = el[PART_COLUMNS].sum(axis=1).astype("float64")
    el["missing_inputs"] = _join_codes({col: el[col].isna() for col in _COMPONENT_INPUT.values()}, el.index)
    n_missing = int((el["missing_inputs"] != "").sum())
    if n_missing:
        warnings.warn(
            f"{n_missing} eligible compound(s) lack willingness, contributing share, procedures or households; "
            "those components count as 0 (see `missing_inputs`).",
            UserWarning,
            stacklevel=2,
        )

    el["_score"] = el["score"].round(_SCORE_DECIMALS)
    el["_will"] = el["willingness_pct"].fillna(-1.0)
    el = el.sort_values(["_score", "_will", "id"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    position = pd.Series(np.arange(1, len(el) + 1), index=el.index, dtype="int64")
    el["rank"] = position.groupby([el["_score"], el["_will"]]).transform("min").astype("int64")
    columns = (["id", "name"] + carried + ["built_year", "age_years", "households", "willingness_pct",
               "contributing_pct", "procedures_complete"] + COMPONENT_COLUMNS + PART_COLUMNS
               + ["score", "rank", "missing_inputs"])
    ranked = el[columns].astype({"built_year": "Int64", "age_years": "Int64", "households": "Int64"})
    log.info("priority: %d eligible, %d ineligible (weights %s)", len(ranked), len(ineligible), w)
    return PriorityResult(ranked, ineligible)
