"""Zoo models with ``weights="random"`` run in onnxruntime and behave like their architecture."""

from __future__ import annotations

from functools import cache

import numpy as np
import onnx
import pytest

from hwsim import zoo
from hwsim.errors import ZooError
from hwsim.zoo import decoder
from hwsim.zoo.builder import GraphBuilder

ort = pytest.importorskip("onnxruntime")

VOCAB = {"bert-base": 30522, "gpt2": 50257, "lstm-lm": 10000, "tiny-llama": 97}
SMALL = [("mlp", {}), ("lenet5", {}), ("resnet18", {}), ("mobilenetv2", {}),
         ("bert-base", {"seq": 16}), ("gpt2", {"seq": 16}), ("lstm-lm", {}), ("capsnet", {}),
         ("capsnet", {"decoder": 0, "batch": 2})]


@pytest.fixture(scope="module", autouse=True)
def _free_sessions():
    """Sessions of random-weight models are large (GPT-2: ~0.5 GB); drop them afterwards."""
    yield
    _zoo_session.cache_clear()


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


@cache
def _zoo_session(name: str, **params) -> ort.InferenceSession:
    """One session per random-weight zoo build (the ModelProto itself is not kept)."""
    return _session(zoo.build(name, weights="random", **params))


def _feeds(sess: ort.InferenceSession, name: str, seed: int = 0) -> dict[str, np.ndarray]:
    rng, feeds = np.random.default_rng(seed), {}
    for arg in sess.get_inputs():
        if arg.name == "input_ids":
            feeds[arg.name] = rng.integers(0, VOCAB[name], size=arg.shape, dtype=np.int64)
        elif arg.name == "attention_mask":
            feeds[arg.name] = np.ones(arg.shape, np.int64)
        elif arg.name == "token_type_ids":
            feeds[arg.name] = np.zeros(arg.shape, np.int64)
        else:
            feeds[arg.name] = rng.standard_normal(arg.shape).astype(np.float32)
    return feeds


@pytest.mark.parametrize("name,params", SMALL, ids=[f"{n}{p or ''}" for n, p in SMALL])
def test_random_weights_run_in_onnxruntime(name, params):
    sess = _zoo_session(name, **params)
    outputs = sess.run(None, _feeds(sess, name))
    declared = sess.get_outputs()
    assert len(outputs) == len(declared) >= 1
    for arg, value in zip(declared, outputs, strict=True):
        assert list(value.shape) == arg.shape, arg.name
        assert all(isinstance(d, int) for d in arg.shape)
        assert np.isfinite(value).all(), arg.name


def _last_token_changed(sess: ort.InferenceSession, name: str, output: str = "logits"):
    """Outputs for the original ids and for ids whose last token differs."""
    feeds = _feeds(sess, name)
    ids = feeds["input_ids"].copy()
    ids[0, -1] = (ids[0, -1] + 1) % VOCAB[name]
    return sess.run([output], feeds)[0], sess.run([output], {**feeds, "input_ids": ids})[0]


def test_gpt2_attention_is_causal():
    a, b = _last_token_changed(_zoo_session("gpt2", seq=16), "gpt2")
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-4)
    assert not np.allclose(a[:, -1], b[:, -1])


def test_bert_attention_mask_hides_padding():
    sess = _zoo_session("bert-base", seq=16)
    feeds = _feeds(sess, "bert-base")
    feeds["attention_mask"][0, -4:] = 0
    ids = feeds["input_ids"].copy()
    ids[0, -1] = (ids[0, -1] + 1) % VOCAB["bert-base"]
    a = sess.run(["last_hidden_state"], feeds)[0]
    b = sess.run(["last_hidden_state"], {**feeds, "input_ids": ids})[0]
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-4)


def test_llama_builder_runs_and_is_causal():
    """The LLaMA builder (RMSNorm, RoPE, SwiGLU) on tiny dims, since 7B cannot run here."""
    dims = decoder.DecoderDims(layers=2, d=64, heads=4, ffn=96, vocab=97, n_ctx=32)
    model = decoder.build_llama(GraphBuilder("tiny-llama", weights="random"), 1, 12, dims)
    a, b = _last_token_changed(_session(model), "tiny-llama")
    assert a.shape == (1, 12, 97) and np.isfinite(a).all()
    np.testing.assert_allclose(a[:, :-1], b[:, :-1], rtol=1e-4, atol=1e-5)
    assert not np.allclose(a[:, -1], b[:, -1])


def _weights(**params) -> dict[str, np.ndarray]:
    model = zoo.build("mlp", weights="random", **params)
    return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}


def test_random_weights_are_seeded_and_scaled():
    a, again, other = _weights(), _weights(seed=0), _weights(seed=1)
    assert all(np.array_equal(a[k], again[k]) for k in a)
    assert not np.array_equal(a["fc1.weight"], other["fc1.weight"])
    assert a["fc1.weight"].dtype == np.float32 and 0.01 < a["fc1.weight"].std() < 0.03
    assert not a["fc1.bias"].any()


@pytest.mark.parametrize("name", ["gpt2-large", "llama-7b", "gpt3-175b"])
def test_random_weights_over_2gib_are_refused(name):
    with pytest.raises(ZooError, match="2 GiB"):
        zoo.build(name, weights="random", seq=8)
