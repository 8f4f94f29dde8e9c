"""Figures named in the framework's own words, for everything a person reads: never an item id or a `[dim=cat]`
key (`Clients setting a quit date (Sex: Female)`, not `quit_dates[sex=female]`)."""

from __future__ import annotations

from kpi_core.framework.model import Framework


def figure_label(framework: Framework, item_id: str, breakdown: str = "") -> str:
    """`Clients setting a quit date`, or with its categories `Completion rate (Substance group: Opiate)`."""
    item = next((i for i in framework.items if i.id == item_id), None)
    label = item.label if item is not None else item_id.replace("_", " ")
    if not breakdown:
        return label
    parts = []
    for part in breakdown.split(","):
        dim, _, cat = part.partition("=")
        spec = framework.disaggregations.get(dim)
        parts.append(f"{spec.label}: {spec.categories.get(cat, cat)}" if spec else f"{dim}: {cat}".replace("_", " "))
    return f"{label} ({'; '.join(parts)})"
