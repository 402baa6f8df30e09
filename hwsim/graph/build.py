"""The operation DAG: a networkx DiGraph of ops joined by the tensors they exchange."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from hwsim.graph.opnode import OpNode


def build_dag(nodes: Iterable[OpNode]) -> nx.DiGraph:
    """DiGraph with one node per op (attribute ``op_type``, ``index`` = row in the WorkTable) and
    an edge producer → consumer per distinct pair, carrying ``tensors`` (names) and ``bytes``."""
    g = nx.DiGraph()
    producer: dict[str, str] = {}
    for i, node in enumerate(nodes):
        g.add_node(node.name, op_type=node.op_type, index=i)
        for t in node.inputs:
            if t is None or t.name not in producer:
                continue
            src = producer[t.name]
            if g.has_edge(src, node.name):
                data = g.edges[src, node.name]
                if t.name not in data["tensors"]:
                    data["tensors"] = data["tensors"] + (t.name,)
                    data["bytes"] += t.nbytes
            else:
                g.add_edge(src, node.name, tensors=(t.name,), bytes=t.nbytes)
        for t in node.outputs:
            producer[t.name] = node.name
    return g
