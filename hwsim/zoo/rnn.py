"""Recurrent language model: Zaremba et al. 2014 "medium" LSTM LM on the ONNX ``LSTM`` op."""

from __future__ import annotations

from onnx import ModelProto, TensorProto

from hwsim.zoo.builder import GraphBuilder, Init

#: Zaremba, Sutskever & Vinyals 2014, "Recurrent Neural Network Regularization", Sec. 4.1
#: (medium model): 10k-word PTB vocabulary, 2 layers, 650 units, weights init U(-0.05, 0.05).
VOCAB, HIDDEN, LAYERS = 10000, 650, 2
_UNIFORM = Init("uniform", 0.05)


def _lstm(b: GraphBuilder, x: str, p: str, fin: int, hidden: int) -> str:
    """One forward ONNX LSTM (layout 0: [seq, batch, feature]); returns [seq, batch, hidden].

    W [1, 4H, in], R [1, 4H, H], B [1, 8H] (input and recurrent biases, as PyTorch has).
    """
    w = b.weight(f"{p}.W", [1, 4 * hidden, fin], _UNIFORM)
    r = b.weight(f"{p}.R", [1, 4 * hidden, hidden], _UNIFORM)
    bias = b.weight(f"{p}.B", [1, 8 * hidden], _UNIFORM)
    y = b.node("LSTM", [x, w, r, bias], p, hidden_size=hidden, direction="forward", layout=0)
    return b.node("Squeeze", [y, b.const([1])], f"{p}.squeeze")


def build_lstm_lm(b: GraphBuilder, batch: int, seq: int) -> ModelProto:
    """Embedding Gather -> 2 x LSTM(650) -> decoder MatMul + Add to 10000 logits.

    Input ``input_ids`` is [seq, batch] int64 (time-major); output ``logits`` [seq, batch, V].
    """
    ids = b.input("input_ids", [seq, batch], TensorProto.INT64)
    x = b.node("Gather", [b.weight("encoder.weight", [VOCAB, HIDDEN], _UNIFORM), ids], "encoder")
    for layer in range(LAYERS):
        x = _lstm(b, x, f"lstm.{layer}", HIDDEN, HIDDEN)
    y = b.node("MatMul", [x, b.weight("decoder.weight", [HIDDEN, VOCAB], _UNIFORM)], "decoder")
    y = b.node("Add", [y, b.weight("decoder.bias", [VOCAB], Init("zeros"))], "decoder.bias_add",
               out="logits")
    b.output(y, [seq, batch, VOCAB])
    return b.model()
