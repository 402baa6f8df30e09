"""The `hwsim inspect` report: totals, breakdowns by work kind and op type, top ops, notes.

:func:`inspect_document` builds the JSON-ready dict (its shape is part of the CLI contract);
:func:`render_tables` draws it with rich.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hwsim.graph.load import LoadedModel
from hwsim.graph.paths import critical_path
from hwsim.ops.work import WorkKind, WorkTable


def inspect_document(model: LoadedModel, table: WorkTable, top: int | None = None) -> dict[str, Any]:
    """``{"model", "totals", "by_kind", "by_op_type", "ops", "unsupported", "notes", ...}``.

    ``ops`` lists every op in graph order, or the ``top`` ops by FLOPs (ties by bytes moved).
    """
    t = table.totals()
    moved = t["bytes_read"] + t["bytes_written"]
    flops_by_name = dict(zip(table.name, table.columns["flops"]))
    cp_flops, cp_nodes = critical_path(table.graph, flops_by_name)
    totals = {
        "ops": len(table), "params": int(t["params"]), "macs": t["macs"], "flops": t["flops"],
        "bytes_read": t["bytes_read"], "bytes_written": t["bytes_written"],
        "weight_bytes": t["weight_bytes"],
        "arithmetic_intensity": t["flops"] / moved if moved else 0.0,
        "folded_ops": sum(1 for n in model.nodes if n.folded),
    }
    return {
        "model": model.name,
        "inputs": [{"name": i.name, "shape": list(i.shape), "dtype": i.dtype} for i in model.inputs],
        "totals": totals,
        "by_kind": table.by_kind(),
        "by_op_type": table.by_op_type(),
        "critical_path": {"flops": cp_flops, "ops": len(cp_nodes)},
        "ops": [_op_row(table, i) for i in _op_order(table, top)],
        "unsupported": [{"op_type": op, "count": n} for op, n in model.unsupported],
        "notes": list(model.notes),
    }


def _op_order(table: WorkTable, top: int | None) -> list[int]:
    if top is None:
        return list(range(len(table)))
    moved = table.columns["bytes_read"] + table.columns["bytes_written"]
    order = np.lexsort((np.arange(len(table)), -moved, -table.columns["flops"]))
    return [int(i) for i in order[:top]]


def _op_row(table: WorkTable, i: int) -> dict[str, Any]:
    c = table.columns
    return {
        "name": str(table.name[i]), "op_type": str(table.op_type[i]),
        "kind": WorkKind(int(table.kind[i])).label,
        "macs": float(c["macs"][i]), "flops": float(c["flops"][i]),
        "bytes_read": float(c["bytes_read"][i]), "bytes_written": float(c["bytes_written"][i]),
        "params": int(c["params"][i]),
        "output_shapes": [list(s) for s in table.output_shapes[i]],
    }


def si(value: float, unit: str = "") -> str:
    """Engineering notation with an SI prefix, for display only (``4.09 G``)."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def render_tables(doc: dict[str, Any], console: Any, top: int) -> None:
    """Print the inspect document as rich tables."""
    from rich.table import Table

    t = doc["totals"]
    head = Table(title=f"{doc['model']}", show_header=False)
    for label, key, unit in (("ops", "ops", ""), ("params", "params", ""), ("MACs", "macs", ""),
                             ("FLOPs", "flops", ""), ("bytes read", "bytes_read", "B"),
                             ("bytes written", "bytes_written", "B"), ("weight bytes", "weight_bytes", "B"),
                             ("arithmetic intensity", "arithmetic_intensity", "FLOP/B")):
        head.add_row(label, str(t[key]) if key == "ops" else si(t[key], unit))
    console.print(head)
    console.print(_breakdown("by work kind", doc["by_kind"]))
    console.print(_breakdown("by op type", doc["by_op_type"]))
    ops = Table(title=f"top {top} ops by FLOPs")
    for col in ("name", "op_type", "kind", "FLOPs", "bytes moved", "params", "output shape"):
        ops.add_column(col)
    for r in doc["ops"][:top]:
        shape = "x".join(map(str, r["output_shapes"][0])) if r["output_shapes"] else ""
        ops.add_row(r["name"], r["op_type"], r["kind"], si(r["flops"]),
                    si(r["bytes_read"] + r["bytes_written"], "B"), si(r["params"]), shape)
    console.print(ops)
    if doc["unsupported"]:
        un = Table(title="unsupported ops (NOT priced)")
        un.add_column("op_type")
        un.add_column("count")
        for u in doc["unsupported"]:
            un.add_row(u["op_type"], str(u["count"]))
        console.print(un)
    for note in doc["notes"]:
        console.print(f"note: {note}")


def _breakdown(title: str, rows: dict[str, dict[str, float]]) -> Any:
    from rich.table import Table

    tab = Table(title=title)
    for col in ("", "ops", "FLOPs", "MACs", "bytes moved", "params"):
        tab.add_column(col)
    for key, r in rows.items():
        tab.add_row(key, str(r["ops"]), si(r["flops"]), si(r["macs"]),
                    si(r["bytes_read"] + r["bytes_written"], "B"), si(r["params"]))
    return tab
