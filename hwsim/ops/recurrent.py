"""Recurrent layers: LSTM, GRU, RNN and com.microsoft DynamicQuantizeLSTM.

Per time step and direction, each of the G gates (LSTM 4, GRU 3, RNN 1) computes
W·x_t + R·h_{t−1}, so MACs = seq · dirs · batch · G·hidden · (input + hidden).
GEMM view: (batch = seq·dirs, m = batch, n = G·hidden, k = input + hidden) — the x and h
products concatenated along k; runtimes usually hoist W·x for all steps into one big GEMM,
which does not change the MAC count.

Per hidden unit per step (elementwise, on top of 2·MACs), with activation costs from
:data:`hwsim.ops.elementwise.ACTIVATION_FLOPS` (Sigmoid 4, Tanh 1):

* LSTM: G adds (W·x + R·h), f(i,f,o) 3 gates, g(c̃), h(C), C = f⊙C + i⊙c̃ (3), H = o⊙h(C) (1)
  → 4 + 3·4 + 1 + 1 + 3 + 1 = 22 with the defaults; bias +4 (Wb + Rb pre-summed once per
  gate), peepholes +6 (3 gates × mul + add), clip +8 (min and max per gate value).
* GRU: 3 adds, z and r sigmoids (8), h̃ tanh (1), r⊙(·) (1), H = (1−z)⊙h̃ + z⊙H (4)
  → 17; bias +3 (linear_before_reset: +1 more for Rb_h added after the reset), clip +6.
* RNN: 1 add + activation (Tanh 1) → 2; bias +1, clip +2.

Parameters: W, R, B (and LSTM P), attributed by the usual owned-constant rule.
"""

from __future__ import annotations

from hwsim.graph.opnode import OpNode
from hwsim.ops.common import in_shape, make_work
from hwsim.ops.elementwise import ACTIVATION_FLOPS
from hwsim.ops.registry import MS_DOMAIN, register
from hwsim.ops.work import OpWork, WorkKind

_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_DEFAULT_ACTS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}


def _act(name: str) -> int:
    """Cost of one activation (Affine/ScaledTanh and unknown names: 2, a multiply-add)."""
    return ACTIVATION_FLOPS.get(name, 1 if name == "Tanh" else 2)


def cell_flops(op: str, acts: tuple[str, ...], bias: bool, peephole: bool, clip: bool, lbr: bool) -> int:
    """Elementwise operations per hidden unit per time step (see the module docstring)."""
    a = tuple(acts[: len(_DEFAULT_ACTS[op])]) or _DEFAULT_ACTS[op]
    g = _GATES[op]
    if op == "LSTM":
        per = g + 3 * _act(a[0]) + _act(a[1]) + _act(a[2]) + 3 + 1 + (6 if peephole else 0)
    elif op == "GRU":
        per = g + 2 * _act(a[0]) + _act(a[1]) + 1 + 4 + (1 if bias and lbr else 0)
    else:
        per = g + _act(a[0])
    return per + (g if bias else 0) + (2 * g if clip else 0)


def _rnn_work(node: OpNode, op: str, x_dims: tuple[int, int, int], dirs: int, hidden: int,
              extra_per_step: float, params: tuple[int, ...], peephole: bool) -> OpWork:
    seq, batch, inp = x_dims
    g = _GATES[op]
    macs = seq * dirs * batch * g * hidden * (inp + hidden)
    acts = tuple(node.attrs.get("activations") or ())
    per = cell_flops(op, acts, node.input(3) is not None, peephole, "clip" in node.attrs,
                     bool(node.attrs.get("linear_before_reset", 0)))
    flops = 2 * macs + seq * dirs * batch * (hidden * per + extra_per_step)
    return make_work(node, WorkKind.MATMUL, flops, macs, gemm=(seq * dirs, batch, g * hidden, inp + hidden), density_slots=(1, 2))


@register("LSTM", "GRU", "RNN")
def recurrent(node: OpNode) -> OpWork:
    """ONNX LSTM/GRU/RNN: X [seq, batch, input] ([batch, seq, input] when layout = 1),
    W [dirs, G·hidden, input]; MACs = seq·dirs·batch·G·hidden·(input + hidden)."""
    x, w = in_shape(node, 0), in_shape(node, 1)
    seq, batch = (x[1], x[0]) if node.attrs.get("layout", 0) else (x[0], x[1])
    hidden = int(node.attrs.get("hidden_size") or w[1] // _GATES[node.op_type])
    params = (1, 2, 3, 7) if node.op_type == "LSTM" else (1, 2, 3)
    peep = node.op_type == "LSTM" and node.input(7) is not None
    return _rnn_work(node, node.op_type, (seq, batch, x[2]), w[0], hidden, 0, params, peep)


@register("DynamicQuantizeLSTM", domain=MS_DOMAIN)
def dynamic_quantize_lstm(node: OpNode) -> OpWork:
    """com.microsoft DynamicQuantizeLSTM: an LSTM with int8 W [dirs, input, 4·hidden] and
    R [dirs, hidden, 4·hidden]. On top of the LSTM count, per step and batch row it quantises
    x_t and h_{t−1} (4 per element: min, max, scale, round) and dequantises the 4·hidden gate
    accumulators (2 per value): extra = 4·(input + hidden) + 8·hidden per (step, dir, row)."""
    x, w = in_shape(node, 0), in_shape(node, 1)
    hidden = int(node.attrs.get("hidden_size") or w[2] // 4)
    extra = 4 * (x[2] + hidden) + 8 * hidden
    return _rnn_work(node, "LSTM", (x[0], x[1], x[2]), w[0], hidden, extra, (1, 2, 3, 7, 8, 9, 10, 11),
                     node.input(7) is not None)
