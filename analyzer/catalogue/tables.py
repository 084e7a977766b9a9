"""The catalogue's two small tables besides entries and causes: Microsoft's prerequisites checklist
(codes/checklist.yaml) and the SSPR error codes users see (codes/sspr-codes.yaml).

Each is read into model objects with every problem reported through the loader's checker; that
the causes and checklist items they name exist is checked once everything is loaded
(`references`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from analyzer.catalogue import model as m

if TYPE_CHECKING:
    from analyzer.catalogue.catalogue import Catalogue
    from analyzer.catalogue.parse import Checker

USER_CODE = re.compile(r"^SSPR_(\d{4})$")
USER_CODE_KEYS = {
    "name": str,
    "number": int,
    "meaning": dict,
    "causes": list,
    "steps": list,
    "references": list,
}
# How a user or a ticket may write the code: SSPR_0029, sspr-29, SSPR 029, SSPR_029.
LOOSE_USER_CODE = re.compile(r"^sspr[\s_-]*0*(\d{1,4})$", re.IGNORECASE)


def checklist(data: dict[str, Any], check: Checker) -> dict[str, m.Text]:
    """The checklist's items: id -> text in every catalogue language."""
    if not check.keys(data, {"items": dict}, {"items"}):
        return {}
    return {str(item): check.text(text, f"items.{item}") for item, text in data["items"].items()}


def user_codes(data: dict[str, Any], check: Checker) -> dict[str, m.UserCode]:
    """The SSPR codes: SSPR_0029 -> its name, number, meaning, causes to check and steps of its own."""
    if not check.keys(data, {"codes": dict}, {"codes"}):
        return {}
    found = {}
    for code, spec in data["codes"].items():
        where = f"codes.{code}."
        shape = USER_CODE.match(str(code))
        if shape is None:
            check.fail(f"codes.{code}", "must be SSPR_ and four digits")
            continue
        if not isinstance(spec, dict) or not check.keys(spec, USER_CODE_KEYS, {"name", "number", "meaning"}, where):
            continue
        if spec["number"] != int(shape.group(1)):
            check.fail(where + "number", f"{spec['number']} is not the number of {code}")
        causes = check.strings(spec.get("causes", []), where + "causes")
        steps = tuple(check.text(step, f"{where}steps[{i}]") for i, step in enumerate(spec.get("steps", [])))
        if not causes and not steps:
            check.fail(where + "causes", "needs causes to check or steps of its own")
        found[code] = m.UserCode(
            code=code,
            name=spec["name"],
            number=spec["number"],
            meaning=check.text(spec["meaning"], where + "meaning"),
            causes=causes,
            steps=steps,
            references=check.strings(spec.get("references", []), where + "references"),
            source=check.source,
        )
    return found


def find_user_code(catalogue: Catalogue, text: str) -> m.UserCode | None:
    """The SSPR code a text names: SSPR_0029 in any usual spelling, or its name (OnPremisesAdminActionRequired)."""
    loose = LOOSE_USER_CODE.match(text.strip())
    for code in catalogue.user_codes.values():
        if (loose and int(loose.group(1)) == code.number) or text.strip().casefold() == code.name.casefold():
            return code
    return None


def references(catalogue: Catalogue, problems: list[str]) -> None:
    """Every checklist item a cause names exists; every cause an SSPR code names exists."""
    for cause in catalogue.causes.values():
        if cause.checklist is not None and cause.checklist not in catalogue.checklist:
            problems.append(f"{cause.source}: checklist: {cause.checklist!r} is not an item of checklist.yaml")
    for code in catalogue.user_codes.values():
        for cause_id in code.causes:
            if cause_id not in catalogue.causes:
                problems.append(f"{code.source}: codes.{code.code}.causes: unknown cause {cause_id!r}")
