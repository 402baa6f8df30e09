"""Zoo models with ``weights="random"`` run in onnxruntime and behave like their architecture."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import onnx
import pytest
from zoo_helpers import built

from hwsim import zoo
from hwsim.errors import ZooError
from hwsim.zoo import decoder
from hwsim.zoo.builder import GraphBuilder

ort = pytest.importorskip("onnxruntime")

VOCAB = {"bert-base": 30522, "gpt2": 50257, "lstm-lm": 10000, "tiny-llama": 97}
SMALL = [("mlp", {}), ("lenet5", {}), ("resnet18", {}), ("mobilenetv2", {}),
         ("bert-base", {"seq": 16}), ("gpt2", {"seq": 16}), ("lstm-lm", {}), ("capsnet", {}),
         ("capsnet", {"decoder": 0, "batch": 2})]


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


@lru_cache(maxsize=None)
def _cached_session(name: str, **params) -> ort.InferenceSession:
    """One session per zoo build (the GPT-2 / BERT ones take seconds to create)."""
    return _session(built(name, weights="random", **params))


def _dims(vi: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def _feeds(model: onnx.ModelProto, name: str, seed: int = 0) -> dict[str, np.ndarray]:
    rng, feeds = np.random.default_rng(seed), {}
    for vi in model.graph.input:
        shape = _dims(vi)
        if vi.name == "input_ids":
            feeds[vi.name] = rng.integers(0, VOCAB[name], size=shape, dtype=np.int64)
        elif vi.name == "attention_mask":
            feeds[vi.name] = np.ones(shape, np.int64)
        elif vi.name == "token_type_ids":
            feeds[vi.name] = np.zeros(shape, np.int64)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


@pytest.mark.parametrize("name,params", SMALL, ids=[f"{n}{p or ''}" for n, p in SMALL])
def test_random_weights_run_in_onnxruntime(name, params):
    model = built(name, weights="random", **params)
    outputs = _cached_session(name, **params).run(None, _feeds(model, name))
    assert len(outputs) == len(model.graph.output)
    for vi, value in zip(model.graph.output, outputs):
        assert list(value.shape) == _dims(vi), vi.name
        assert np.isfinite(value).all(), vi.name


def _logits(model, sess, name, ids):
    return sess.run(["logits"], {**_feeds(model, name), "input_ids": ids})[0]


def test_gpt2_attention_is_causal():
    model, sess = built("gpt2", weights="random", seq=16), _cached_session("gpt2", seq=16)
    ids = _feeds(model, "gpt2")["input_ids"]
    changed = ids.copy()
    changed[0, -1] = (ids[0, -1] + 1) % VOCAB["gpt2"]
    a, b = _logits(model, sess, "gpt2", ids), _logits(model, sess, "gpt2", changed)
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-4)
    assert not np.allclose(a[:, -1], b[:, -1])


def test_bert_attention_mask_hides_padding():
    model = built("bert-base", weights="random", seq=16)
    sess, feeds = _cached_session("bert-base", seq=16), _feeds(model, "bert-base")
    feeds["attention_mask"][0, -4:] = 0
    changed = {**feeds, "input_ids": feeds["input_ids"].copy()}
    changed["input_ids"][0, -1] = (feeds["input_ids"][0, -1] + 1) % VOCAB["bert-base"]
    a = sess.run(["last_hidden_state"], feeds)[0]
    b = sess.run(["last_hidden_state"], changed)[0]
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-4)


def test_llama_block_runs_and_is_causal():
    """The LLaMA builder (RMSNorm, RoPE, SwiGLU) on tiny dims, since 7B cannot run here."""
    dims = decoder.DecoderDims(layers=2, d=64, heads=4, ffn=96, vocab=97, n_ctx=32)
    model = decoder.build_llama(GraphBuilder("tiny-llama", weights="random"), 1, 12, dims)
    sess, ids = _session(model), _feeds(model, "tiny-llama")["input_ids"]
    changed = ids.copy()
    changed[0, -1] = (ids[0, -1] + 1) % 97
    a, b = _logits(model, sess, "tiny-llama", ids), _logits(model, sess, "tiny-llama", changed)
    assert a.shape == (1, 12, 97) and np.isfinite(a).all()
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-5)
    assert not np.allclose(a[:, -1], b[:, -1])


def test_random_weights_are_seeded_and_scaled():
    a = {t.name: onnx.numpy_helper.to_array(t)
         for t in built("mlp", weights="random").graph.initializer}
    b = {t.name: onnx.numpy_helper.to_array(t)
         for t in zoo.build("mlp", weights="random", seed=1).graph.initializer}
    again = zoo.build("mlp", weights="random").graph.initializer
    assert all(np.array_equal(a[t.name], onnx.numpy_helper.to_array(t)) for t in again)
    assert not np.array_equal(a["fc1.weight"], b["fc1.weight"])
    assert a["fc1.weight"].dtype == np.float32 and 0.01 < a["fc1.weight"].std() < 0.03


@pytest.mark.parametrize("name", ["gpt2-large", "llama-7b", "gpt3-175b"])
def test_random_weights_over_2gib_are_refused(name):
    with pytest.raises(ZooError, match="2 GiB"):
        zoo.build(name, weights="random", seq=8)
