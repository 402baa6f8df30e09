#!/usr/bin/env python3
"""Quantized variants of the PyTorch exports, made with onnxruntime's quantization tools.

NOT part of hwsim. Run after make_torch_exports.py, in the same throw-away venv:

    /tmp/torchvenv/bin/pip install onnx==1.23.2 onnxruntime==1.32.0
    cd tests/data/exported && /tmp/torchvenv/bin/python make_ort_quantized.py

  ort_dynq_transformer.onnx : quantize_dynamic(torch_transformer_dynbs.onnx, weight_type=QInt8)
                              -> DynamicQuantizeLinear + MatMulInteger (+ Cast/Mul dequant)
  ort_dynq_lstm_lm.onnx     : quantize_dynamic(torch_lstm_lm_dynbs.onnx, weight_type=QInt8)
                              -> com.microsoft DynamicQuantizeLSTM + MatMulInteger
  ort_static_qop_cnn.onnx   : quantize_static(torch_cnn_dynbatch.onnx, QuantFormat.QOperator, QUInt8 act / QInt8 w)
                              -> QuantizeLinear, QLinearConv, QLinearAdd, QLinearGlobalAveragePool, QGemm, ...
  ort_static_qdq_cnn.onnx   : quantize_static(torch_cnn_dynbatch.onnx, QuantFormat.QDQ)
                              -> QuantizeLinear/DequantizeLinear pairs around float Conv/Gemm/Add
Each input model is first run through onnxruntime.quantization.shape_inference.quant_pre_process
as ORT recommends (skip_optimization=True for the dynamic ones, False for the CNN: its Conv biases
are aliased through Identity nodes by the exporter, which quantize_static cannot handle).  Calibration data: 8 batches of np.random (seed 0),
shape [2, 3, 32, 32], MinMax calibration.
"""
import os

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

HERE = os.path.dirname(os.path.abspath(__file__))


def pre(name, skip_optimization=True):
    out = os.path.join("/tmp", "pre_" + name)
    quant_pre_process(os.path.join(HERE, name), out, skip_optimization=skip_optimization)
    return out


class RandReader(CalibrationDataReader):
    def __init__(self, n=8):
        rng = np.random.default_rng(0)
        self.data = iter([{"image": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)} for _ in range(n)])

    def get_next(self):
        return next(self.data, None)


def main():
    quantize_dynamic(pre("torch_transformer_dynbs.onnx"), os.path.join(HERE, "ort_dynq_transformer.onnx"),
                     weight_type=QuantType.QInt8)
    quantize_dynamic(pre("torch_lstm_lm_dynbs.onnx"), os.path.join(HERE, "ort_dynq_lstm_lm.onnx"),
                     weight_type=QuantType.QInt8)
    # skip_optimization=False: ORT's basic graph optimisation removes the exporter's Identity nodes
    # that alias shared initializers (quantize_static needs Conv bias to be an initializer).
    cnn = pre("torch_cnn_dynbatch.onnx", skip_optimization=False)
    quantize_static(cnn, os.path.join(HERE, "ort_static_qop_cnn.onnx"), RandReader(),
                    quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    quantize_static(cnn, os.path.join(HERE, "ort_static_qdq_cnn.onnx"), RandReader(),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    # each quantized model must run at a binding other than the calibration one
    feeds = {
        "ort_dynq_transformer.onnx": {"x": np.random.randn(3, 7, 64).astype(np.float32)},
        "ort_dynq_lstm_lm.onnx": {"tokens": np.random.randint(0, 50, (3, 7)).astype(np.int64)},
        "ort_static_qop_cnn.onnx": {"image": np.random.randn(3, 3, 32, 32).astype(np.float32)},
        "ort_static_qdq_cnn.onnx": {"image": np.random.randn(3, 3, 32, 32).astype(np.float32)},
    }
    for f, feed in feeds.items():
        sess = ort.InferenceSession(os.path.join(HERE, f), providers=["CPUExecutionProvider"])
        print(f, [o.shape for o in sess.run(None, feed)])


if __name__ == "__main__":
    main()
