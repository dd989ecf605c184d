"""Setting up the organisation's units: add, edit, move to another parent, retire."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from sqlalchemy import select

from riskmap.catalogue import Catalogue
from riskmap.service.core import READERS, Tx, snapshot, use_case
from riskmap.service.errors import ValidationError
from riskmap.store.models import Organisation, Unit

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
UNIT_LIST_COLUMNS = [
    "code",
    "name",
    "unit_type",
    "parent",
    "region",
    "headcount",
    "retired",
    "version",
    "exposure",
]


@use_case("admin")
def set_up_organisation(tx: Tx, name: str, *, is_demo: bool = False) -> dict:
    """Name the organisation (a database holds one); renaming is allowed."""
    if not name.strip():
        raise ValidationError("organisation name", "must not be empty")
    org = tx.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    before = snapshot(org) if org else None
    if org is None:
        org = Organisation(name=name.strip(), is_demo=is_demo)
        tx.session.add(org)
    else:
        org.name = name.strip()
    tx.session.flush()
    after = snapshot(org)
    tx.audit("organisation.set_up", "organisation", org.id, before=before, after=after)
    return after


def check_unit_type(catalogue: Catalogue, unit_type: str) -> str:
    if unit_type not in catalogue.unit_type_by_id:
        known = ", ".join(t.id for t in catalogue.unit_types)
        raise ValidationError("unit type", f"{unit_type!r} is not in the catalogue ({known})")
    return unit_type


def check_exposure(catalogue: Catalogue, exposure: dict[str, int]) -> dict[str, int]:
    scale = catalogue.method.exposure
    factors = {f.id for f in scale.factors}
    out = {}
    for key, level in exposure.items():
        if key not in factors:
            raise ValidationError(
                "exposure", f"{key!r} is not an exposure factor ({', '.join(sorted(factors))})"
            )
        if not isinstance(level, int) or not scale.min <= level <= scale.max:
            raise ValidationError(
                f"exposure {key}", f"must be a whole number from {scale.min} to {scale.max}"
            )
        out[key] = level
    return out


def _headcount(value: Any) -> int:
    if not isinstance(value, int) or value < 0:
        raise ValidationError("headcount", "must be a whole number, zero or more")
    return value


def _save(
    tx: Tx, unit: Unit, code: str, values: dict, expected_version: int, action: str, reason: str
) -> dict:
    """A change to a unit, saved at the version the editor saw and audited as the unit's
    (its code names it in the trail and in a conflict), the same for every edit of it."""
    return tx.update(
        unit,
        values,
        expected_version=expected_version,
        what=f"unit {code}",
        entity="unit",
        entity_id=code,
        action=action,
        reason=reason,
    )


@use_case("admin")
def add_unit(
    tx: Tx,
    code: str,
    name: str,
    unit_type: str,
    *,
    parent: str | None = None,
    region: str = "",
    headcount: int = 0,
    exposure: dict[str, int] | None = None,
) -> dict:
    """A new unit; its exposure profile defaults to its unit type's."""
    org = tx.organisation()
    if not CODE.match(code or ""):
        raise ValidationError(
            "unit code", f"use up to 40 letters, digits, dots, dashes or underscores (got {code!r})"
        )
    if not name.strip():
        raise ValidationError("unit name", "must not be empty")
    check_unit_type(tx.catalogue, unit_type)
    if tx.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise ValidationError("unit code", f"{code!r} is already used by another unit")
    parent_id = _parent(tx, parent).id if parent else None
    if exposure is None:
        exposure = dict(tx.catalogue.unit_type_by_id[unit_type].exposure)
    unit = Unit(
        organisation_id=org.id,
        code=code,
        name=name.strip(),
        unit_type=unit_type,
        parent_id=parent_id,
        region=region.strip(),
        headcount=_headcount(headcount),
        exposure=check_exposure(tx.catalogue, exposure),
        retired=False,
    )
    tx.session.add(unit)
    tx.session.flush()
    after = snapshot(unit)
    tx.audit("unit.add", "unit", code, after=after)
    return after


def _parent(tx: Tx, code: str) -> Unit:
    parent = tx.unit(code)
    if parent.retired:
        raise ValidationError("parent unit", f"{code} is retired")
    return parent


_EDITABLE = ("name", "unit_type", "region", "headcount", "exposure")


@use_case("admin")
def edit_unit(tx: Tx, code: str, *, expected_version: int, reason: str = "", **values: Any) -> dict:
    """Change a unit's name, type, region, headcount or exposure profile."""
    unknown = set(values) - set(_EDITABLE)
    if unknown:
        raise ValidationError(
            ", ".join(sorted(unknown)), f"cannot be edited here (editable: {', '.join(_EDITABLE)})"
        )
    unit = tx.unit(code)
    if "name" in values and not str(values["name"]).strip():
        raise ValidationError("unit name", "must not be empty")
    if "unit_type" in values:
        check_unit_type(tx.catalogue, values["unit_type"])
    if "headcount" in values:
        _headcount(values["headcount"])
    if "exposure" in values:
        values["exposure"] = check_exposure(tx.catalogue, values["exposure"])
    return _save(tx, unit, code, values, expected_version, "unit.edit", reason)


@use_case("admin")
def move_unit(
    tx: Tx, code: str, parent: str | None, *, expected_version: int, reason: str = ""
) -> dict:
    """Place the unit under another parent (None: top level); a unit cannot be its own ancestor."""
    unit = tx.unit(code)
    parent_id = None
    if parent:
        target = _parent(tx, parent)
        node: Unit | None = target
        while node is not None:
            if node.id == unit.id:
                raise ValidationError(
                    "parent unit", f"{parent} is {code} itself or one of its sub-units"
                )
            node = tx.session.get(Unit, node.parent_id) if node.parent_id else None
        parent_id = target.id
    return _save(tx, unit, code, {"parent_id": parent_id}, expected_version, "unit.move", reason)


@use_case("admin")
def retire_unit(tx: Tx, code: str, *, expected_version: int, reason: str) -> dict:
    """A retired unit keeps its history but is left out of cycles started afterwards."""
    if not reason or not reason.strip():
        raise ValidationError("reason", "say why the unit is retired")
    unit = tx.unit(code)
    active_children = tx.session.scalars(
        select(Unit.code).where(Unit.parent_id == unit.id, Unit.retired.is_(False))
    ).all()
    if active_children:
        raise ValidationError(
            "unit", f"{code} still has active sub-units ({', '.join(active_children)}); move them"
        )
    return _save(tx, unit, code, {"retired": True}, expected_version, "unit.retire", reason)


@use_case(*READERS)
def list_units(tx: Tx, *, include_retired: bool = False) -> pd.DataFrame:
    stmt = select(Unit).order_by(Unit.code)
    if not include_retired:
        stmt = stmt.where(Unit.retired.is_(False))
    units = tx.session.scalars(tx.only_visible(stmt, Unit.id)).all()
    codes = {u.id: u.code for u in tx.session.execute(select(Unit.id, Unit.code))}
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "unit_type": u.unit_type,
            "parent": codes.get(u.parent_id) if u.parent_id else None,
            "region": u.region,
            "headcount": u.headcount,
            "retired": u.retired,
            "version": u.version,
            "exposure": u.exposure,
        }
        for u in units
    ]
    return pd.DataFrame(rows, columns=UNIT_LIST_COLUMNS)
