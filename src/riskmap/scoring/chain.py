"""The trafficking chain: where along it a trafficker would pay (pure).

A trafficking operation needs every stage of the chain (recruitment, documents and visas,
border, exploitation and inspections, criminal justice, victim protection) to give way
somewhere; the corruption it buys is at the stage where one official can most easily be
bought. So each stage is as strong as its *worst exposed unit*: the highest residual of any
unit on any risk scenario of the stage. The stage whose worst residual is highest is the
*weakest link*. A mean would hide the one unit that lets the chain through.

`chain_links` gives one row per stage (catalogue order), for the whole ministry or per
region; `chain_units` the units behind one stage, worst first. The chain chart, the
Heat maps page and the briefing read these two.
"""

from __future__ import annotations

import pandas as pd

from riskmap.catalogue import Catalogue

CHAIN_COLUMNS = [
    "area",
    "order",
    "stage",
    "stage_name",
    "residual",
    "band",
    "unit_code",
    "unit",
    "risk_id",
    "risk",
    "units",
    "weakest",
]
MINISTRY = "(whole ministry)"


def chain_links(
    register: pd.DataFrame, catalogue: Catalogue, by: str | None = None
) -> pd.DataFrame:
    """One row per stage of the chain (per value of `by`, e.g. "region", when given).

    `residual`, `unit`, `risk`, `band`: the worst unit x risk of the stage and its residual
    band as the register has it (ties: the first unit by id); `units`: units rating a risk
    of the stage; `weakest`: the stage(s) with the highest
    worst residual of their area. A stage no unit rates has NaN residual and is never the
    weakest (nothing is known of it; the chart says so). `area` is the value of `by`, or
    `MINISTRY`.
    """
    stages = list(catalogue.stages)
    frames = []
    if register is None or register.empty:
        groups: list[tuple[str, pd.DataFrame]] = [(MINISTRY, pd.DataFrame())]
    elif by is None:
        groups = [(MINISTRY, register)]
    else:
        keys = register[by].fillna("").astype(str)
        groups = [(k, register[keys == k]) for k in sorted(keys.unique())]
    for area, reg in groups:
        rows = []
        for order, stage in enumerate(stages):
            part = reg[reg["stage"] == stage.id] if len(reg) else reg
            row = {"area": area, "order": order, "stage": stage.id, "stage_name": stage.name}
            if len(part):
                top = part.sort_values(
                    ["residual", "unit_code", "risk_id"],
                    ascending=[False, True, True],
                    kind="mergesort",
                ).iloc[0]
                row.update(
                    residual=float(top["residual"]),
                    unit_code=top["unit_code"],
                    unit=top["unit"],
                    risk_id=top["risk_id"],
                    risk=top["risk"],
                    band=top["residual_band"],
                    units=int(part["unit_code"].nunique()),
                )
            else:
                row.update(
                    residual=float("nan"),
                    unit_code="",
                    unit="",
                    risk_id="",
                    risk="",
                    band="",
                    units=0,
                )
            rows.append(row)
        out = pd.DataFrame(rows)
        worst = out["residual"].max()
        out["weakest"] = out["residual"].eq(worst) & out["residual"].notna()
        frames.append(out)
    return pd.concat(frames, ignore_index=True)[CHAIN_COLUMNS]


def chain_units(
    register: pd.DataFrame, catalogue: Catalogue, stage: str, region: str | None = None
) -> pd.DataFrame:
    """The units behind one stage: each unit's worst residual on the stage's risks, worst
    first (the unit, its type and region, the risk, its residual and band)."""
    cols = ["unit_code", "unit", "unit_type", "region", "risk_id", "risk", "residual"]
    reg = register[register["stage"] == stage]
    if region is not None:
        reg = reg[reg["region"].fillna("").astype(str) == region]
    if reg.empty:
        return pd.DataFrame(columns=[*cols, "residual_band"])
    reg = reg.sort_values(
        ["residual", "unit_code", "risk_id"], ascending=[False, True, True], kind="mergesort"
    )
    out = reg.drop_duplicates("unit_code")[[*cols, "residual_band"]]
    return out.reset_index(drop=True)
