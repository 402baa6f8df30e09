"""Epilogue fusion: which ops a runtime folds into the matrix product or convolution that
produces their input, so that they cost no kernel launch and no extra pass over memory.

The patterns are the ones ONNX Runtime's CPU provider applies by default
(onnxruntime.ai/docs/performance/model-optimizations/graph-optimizations.html): Conv BatchNorm,
Conv Add and Conv Mul fusions (a constant folded into the weights or bias), Conv Activation
and GEMM Activation fusions (Relu, Clip, Sigmoid, Tanh, LeakyRelu, HardSigmoid applied in the
kernel's epilogue), MatMul Add fusion (a constant bias on a 2-D product: Gemm) and MatMul
Scale fusion (a scalar Mul: FusedMatMul alpha); :func:`fusion` has the rules, checked against
the graphs ORT 1.23 writes (a PyTorch transformer's 3-D MatMul + bias Add stays two kernels).

An op is an epilogue when its only non-constant input is produced by such a host op (or by an
epilogue already fused into one) and nothing else reads that tensor. The ``epilogue`` column
marks it: :data:`FOLDED_INTO_WEIGHTS` (1) for BatchNormalization and constant Add/Mul after a
Conv, which the runtime folds into the conv's weights and bias; :data:`IN_EPILOGUE` (2) for
activations and bias/scale ops the kernel applies to each output tile (no kernel launch of
their own, but still a pass over the tile). Device models that fuse (``CpuSpec.fuse_epilogues``)
price them accordingly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hwsim.graph.opnode import OpNode

ACTIVATIONS = frozenset({"Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid"})
FOLDED_INTO_WEIGHTS, IN_EPILOGUE = 1.0, 2.0


def fusion(op_type: str, host: str, node: OpNode) -> tuple[float, str]:
    """(code, host after fusion) of ``node`` (an ``op_type`` op reading the output of a ``host``
    op), or (0.0, "") when the runtime does not fuse it. ORT's rules: Conv folds
    BatchNormalization and constant Add/Mul into its weights and applies activations in its
    epilogue; Gemm applies activations; MatMul takes a constant bias Add only on 2-D outputs
    (MatMulAddFusion: it becomes a Gemm) and a scalar Mul as FusedMatMul's alpha; a 3-D
    MatMul + bias stays two kernels."""
    if host == "Conv":
        if op_type in ("BatchNormalization", "Add", "Mul"):
            return FOLDED_INTO_WEIGHTS, host
        return (IN_EPILOGUE, host) if op_type in ACTIVATIONS else (0.0, "")
    if host == "Gemm" and op_type in ACTIVATIONS:
        return IN_EPILOGUE, host
    if host == "MatMul" and op_type == "Add" and len(node.outputs[0].shape) == 2:
        return IN_EPILOGUE, "Gemm"
    if host == "MatMul" and op_type == "Mul" and all(math.prod(t.shape) == 1 for t in node.inputs if t is not None and t.const):
        return IN_EPILOGUE, host
    return 0.0, ""


def epilogue_flags(nodes: Sequence[OpNode]) -> list[float]:
    """Per node (in topological order): :data:`FOLDED_INTO_WEIGHTS`, :data:`IN_EPILOGUE`, or 0.0."""
    producer: dict[str, int] = {}
    readers: dict[str, int] = {}
    for node in nodes:
        if not node.folded:
            for t in node.live_inputs:
                readers[t.name] = readers.get(t.name, 0) + 1
    host: list[str] = []
    flags: list[float] = []
    for i, node in enumerate(nodes):
        kind = node.op_type if node.domain in ("", "ai.onnx") else ""
        live = node.live_inputs
        code, after = 0.0, kind
        if not node.folded and len(live) == 1 and live[0].name in producer and readers.get(live[0].name, 0) == 1:
            code, fused_host = fusion(kind, host[producer[live[0].name]], node)
            after = fused_host if code else kind
        flags.append(code)
        host.append(after)
        for t in node.outputs:
            producer[t.name] = i
    return flags
