"""Count the work of loaded models: one :class:`OpWork` per op, gathered into a WorkTable."""

from __future__ import annotations

from hwsim.errors import UnsupportedOpError
from hwsim.graph.build import build_dag
from hwsim.graph.load import LoadedModel
from hwsim.graph.opnode import OpNode
from hwsim.ops.epilogue import epilogue_flags
from hwsim.ops.layout import layout_columns
from hwsim.ops.registry import lookup
from hwsim.ops.shape_ops import runtime_shape_flags
from hwsim.ops.strided import copy_chunk_column
from hwsim.ops.work import OpWork, WorkKind, WorkTable

_FOLDED = OpWork(kind=WorkKind.NONE, notes=("constant-folded at load time",))


def count_node(node: OpNode) -> OpWork:
    """Work of one op per inference (Loop bodies multiplied by their trip count).

    A folded op (all inputs constant) costs nothing per inference: runtimes compute it once.
    """
    if node.folded:
        return _FOLDED
    work = lookup(node.op_type, node.domain)(node)
    return work.scaled(node.repeat) if node.repeat != 1 else work


def count_work(model: LoadedModel) -> WorkTable:
    """The WorkTable of ``model``: one row per op, its DAG, and the loader's notes.

    The ``epilogue`` column marks ops runtimes fuse into their producer (:mod:`hwsim.ops.epilogue`);
    ``layout_bytes``/``layout_ops`` the blocked-layout conversions CPU runtimes insert and ``nchw_input``
    the blocked convolutions reading a plain few-channel input (:mod:`hwsim.ops.layout`);
    ``runtime_shape`` the folded shape computations dynamic-shape runtimes still run (:mod:`hwsim.ops.shape_ops`);
    ``copy_chunks`` the contiguous runs a transpose copies one at a time (:mod:`hwsim.ops.strided`).
    Ops listed as unsupported at load (``on_unsupported="warn"``) get a row of kind NONE with
    ``supported`` = 0, so reports list them as unpriced; they are never priced as free.
    """
    rows = []
    for node in model.nodes:
        try:
            work = count_node(node)
            ok = 1.0
        except UnsupportedOpError:
            work, ok = OpWork(kind=WorkKind.NONE, notes=("unsupported: not priced",)), 0.0
        rows.append((node.name, node.op_type, node.domain, tuple(t.shape for t in node.outputs), node.repeat, work, ok,
                     node.folded))
    table = WorkTable.from_rows(rows, build_dag(model.nodes), model.notes)
    layout_bytes, layout_ops, nchw_input = layout_columns(model.nodes, (t.name for t in model.outputs))
    return table.with_columns(epilogue=epilogue_flags(model.nodes), layout_bytes=layout_bytes, layout_ops=layout_ops,
                              nchw_input=nchw_input,
                              runtime_shape=runtime_shape_flags(model.nodes, model.symbolic_inputs),
                              copy_chunks=copy_chunk_column(model.nodes))
