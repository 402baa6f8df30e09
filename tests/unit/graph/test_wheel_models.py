"""Every model shipped in the onnx wheel's backend test data (not the single-op ``node/`` tests)
loads with every output static, no unsupported op, and counts.

``simple/test_sequence_model8`` has a symbolic input dim ``n``: it is bound to 12.
"""

import glob
import os

import onnx
import pytest

import hwsim

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
FOLDERS = ("light", "simple", "pytorch-converted", "pytorch-operator", "real")
MODELS = sorted(p for f in FOLDERS for p in glob.glob(os.path.join(DATA, f, "**", "*.onnx"), recursive=True))
DIMS = {"simple/test_sequence_model8/model.onnx": {"n": 12}}


def test_models_found():
    assert len(MODELS) > 100


@pytest.mark.parametrize("path", MODELS, ids=lambda p: os.path.relpath(p, DATA))
def test_wheel_model_loads_and_counts(path):
    model = hwsim.load_model(path, dims=DIMS.get(os.path.relpath(path, DATA).replace(os.sep, "/")))
    assert model.unsupported == ()
    for node in model.nodes:
        for t in node.outputs:
            assert all(isinstance(d, int) and d >= 0 for d in t.shape), (node.name, t.name, t.shape)
    table = hwsim.count_work(model)
    assert len(table) == len(model.nodes)
    assert (table.supported == 1).all()
    assert (table.flops >= 0).all()
