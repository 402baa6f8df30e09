"""ONNX-ML ops: hand-computed counts on single-node graphs."""

import numpy as np
import pytest
from onnx import numpy_helper

import hwsim
from hwsim.ops import count_node
from tests.helpers import count_single, single_node_model

ML = "ai.onnx.ml"
X = ((4, 3), "fp32")  # N = 4 rows, 3 features


def ml(op, inputs, attrs, n_outputs=1):
    return count_single(op, inputs, attrs, domain=ML, n_outputs=n_outputs)


def test_linear_classifier():
    # MACs 4·3·2 = 24; scores 8: intercept 8 + argmax 8 → 48 + 16; params 6 coefficients + 2 intercepts
    node, w = ml("LinearClassifier", [X], {"coefficients": [0.5] * 6, "intercepts": [0.1, 0.2], "classlabels_ints": [0, 1]}, 2)
    assert node.outputs[1].shape == (4, 2)
    assert (w.macs, w.flops, w.params, w.gemm) == (24, 64, 8, (1, 4, 2, 3))


def test_linear_regressor_softmax_free():
    # MACs 4·3·1 = 12; intercept 4 → 28; params 4
    _, w = ml("LinearRegressor", [X], {"coefficients": [0.5] * 3, "intercepts": [0.1], "targets": 1})
    assert (w.macs, w.flops, w.params) == (12, 28, 4)


@pytest.mark.parametrize("kernel, flops", [
    ("LINEAR", 64 + 4),            # MACs 4·2·3 + 4·2 = 32, + rho 4
    ("RBF", 64 + 4 + 16 + 24),     # + per kernel 2 (8 kernels) + one subtraction per feature (24)
])
def test_svm_regressor(kernel, flops):
    _, w = ml("SVMRegressor", [X], {"support_vectors": [0.1] * 6, "n_supports": 2, "coefficients": [1.0, 2.0],
                                   "rho": [0.1], "kernel_type": kernel})
    assert (w.macs, w.flops, w.params) == (32, flops, 9)


def test_svm_classifier():
    # 3 support vectors: kernels 4·3·3 = 36 MACs; 2 classes: decision 4·3 = 12 MACs → 48
    # FLOPs 96 + vote 2 per pair·row (8) + argmax 8 = 112
    node, w = ml("SVMClassifier", [X], {"support_vectors": [0.1] * 9, "vectors_per_class": [1, 2],
                                       "coefficients": [0.5] * 3, "rho": [0.1], "kernel_type": "LINEAR",
                                       "classlabels_ints": [0, 1]}, 2)
    assert (w.macs, w.flops) == (48, 112)


TREE = {  # one tree of depth 2: 0 → (1, leaf 2); 1 → (leaf 3, leaf 4)
    "nodes_treeids": [0] * 5, "nodes_nodeids": [0, 1, 2, 3, 4], "nodes_featureids": [0, 1, 0, 0, 0],
    "nodes_values": [0.5, 0.3, 0, 0, 0], "nodes_modes": ["BRANCH_LEQ", "BRANCH_LEQ", "LEAF", "LEAF", "LEAF"],
    "nodes_truenodeids": [1, 3, 0, 0, 0], "nodes_falsenodeids": [2, 4, 0, 0, 0],
}


def test_tree_ensemble_regressor():
    # compares 4 rows · depth 2 = 8; leaf adds 4·1 tree·(3 weights / 3 leaves) = 4; base 4 → 16
    # params: 5 thresholds + 5 feature ids + 3 weights = 13
    _, w = ml("TreeEnsembleRegressor", [X], dict(TREE, target_treeids=[0, 0, 0], target_nodeids=[2, 3, 4],
                                                target_ids=[0, 0, 0], target_weights=[1.0, 2.0, 3.0], n_targets=1))
    assert (w.flops, w.params) == (16, 13)


def test_tree_ensemble_classifier():
    # as the regressor with 2 classes: 8 compares + 4·(6 weights/3 leaves) = 8 adds + base 8 + argmax 8 = 32
    node, w = ml("TreeEnsembleClassifier", [X], dict(TREE, class_treeids=[0] * 6, class_nodeids=[2, 2, 3, 3, 4, 4],
                                                    class_ids=[0, 1] * 3, class_weights=[0.5] * 6, classlabels_int64s=[0, 1]), 2)
    assert node.outputs[1].shape == (4, 2)
    assert w.flops == 32


def test_tree_ensemble_v5():
    # node 0: true → node 1, false → leaf 0; node 1: true → leaf 1, false → leaf 2. Depth 2.
    # 8 compares + 4 leaf adds + 4 = 16; params 2 splits + 2 feature ids + 3 leaf weights = 7
    attrs = {"tree_roots": [0], "nodes_featureids": [0, 1],
             "nodes_splits": numpy_helper.from_array(np.array([0.5, 0.3], np.float32)),
             "nodes_modes": numpy_helper.from_array(np.array([0, 0], np.uint8)),
             "nodes_truenodeids": [1, 1], "nodes_trueleafs": [0, 1], "nodes_falsenodeids": [0, 2], "nodes_falseleafs": [1, 1],
             "leaf_targetids": [0, 0, 0], "leaf_weights": numpy_helper.from_array(np.array([1, 2, 3], np.float32)), "n_targets": 1}
    model = single_node_model("TreeEnsemble", [X], attrs, domain=ML, opset=21)
    for o in model.opset_import:
        if o.domain == ML:
            o.version = 5
    node = next(n for n in hwsim.load_model(model).nodes if n.name == "op")
    w = count_node(node)
    assert node.outputs[0].shape == (4, 1)
    assert (w.flops, w.params) == (16, 7)


@pytest.mark.parametrize("op, inputs, attrs, flops, params", [
    ("Normalizer", [X], {"norm": "L2"}, 3 * 12 + 4, 0),           # 3 per element + sqrt per row
    ("Normalizer", [X], {"norm": "MAX"}, 2 * 12, 0),
    ("Scaler", [X], {"offset": [0.1] * 3, "scale": [2.0] * 3}, 24, 6),
    ("Binarizer", [X], {"threshold": 0.5}, 12, 0),
    ("Imputer", [X], {"imputed_value_floats": [0.0], "replaced_value_float": float("nan")}, 24, 1),
    ("LabelEncoder", [((4,), "string")], {"keys_strings": ["a", "b"], "values_int64s": [1, 2]}, 4, 4),
    ("CategoryMapper", [((4,), "string")], {"cats_strings": ["a", "b"], "cats_int64s": [1, 2]}, 4, 4),
    ("OneHotEncoder", [((4,), "int64")], {"cats_int64s": [1, 2, 3]}, 4, 3),
])
def test_per_element(op, inputs, attrs, flops, params):
    _, w = ml(op, inputs, attrs)
    assert (w.flops, w.params) == (flops, params)


def test_array_feature_extractor_and_vectorizers():
    # gathers 4·2 floats = 32 bytes written; reads them + 2 int64 indices (16)
    node, w = ml("ArrayFeatureExtractor", [X, np.array([0, 2], np.int64)], {})
    assert node.outputs[0].shape == (4, 2) and (w.flops, w.bytes_read, w.bytes_written) == (0, 48, 32)
    node, w = ml("FeatureVectorizer", [((4, 2), "fp32"), ((4, 3), "fp32")], {"inputdimensions": [2, 3]})
    assert node.outputs[0].shape == (4, 5) and w.bytes_written == 80
    node, w = ml("ZipMap", [((4, 2), "fp32")], {"classlabels_int64s": [0, 1]})
    assert node.outputs[0].shape == (4, 2) and w.flops == 0 and w.bytes_written == 32
