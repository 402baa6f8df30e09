#!/usr/bin/env python3
"""Small Keras CNN (NHWC) exported with tf2onnx, dynamic batch.

NOT part of hwsim. Run in its own throw-away venv (Python 3.11.7):

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tf2onnx tensorflow-cpu onnx==1.23.2
    # resolved: tensorflow-cpu 2.21.0, keras 3.15.1, tf2onnx 1.17.0, onnx 1.23.2, numpy 2.4.6, protobuf 7.36.2
    cd tests/data/exported && /tmp/tfvenv/bin/python make_tf2onnx_export.py

Model: Input(None,32,32,3) -> Conv2D(8,3,stride 2,'same') -> BatchNorm -> ReLU6 -> DepthwiseConv2D(3,'same')
-> BatchNorm -> ReLU6 -> Conv2D(16,1) -> ReLU6 -> GlobalAveragePooling2D -> Dense(10) -> Softmax.
Tries tf2onnx.convert.from_keras first; with Keras 3 that path can fail, in which case the same model
is wrapped in a tf.function with input_signature TensorSpec([None,32,32,3]) and converted with
tf2onnx.convert.from_function (the path used is written to tf2onnx_info.json).
"""
import json
import os

import numpy as np
import tensorflow as tf
import tf2onnx

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tf2onnx_keras_cnn_dynbatch.onnx")


def build():
    tf.random.set_seed(0)
    L = tf.keras.layers
    inp = tf.keras.Input(shape=(32, 32, 3), name="image")
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="conv0")(inp)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.ReLU(6.0, name="relu6_0")(x)
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw1")(x)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.ReLU(6.0, name="relu6_1")(x)
    x = L.Conv2D(16, 1, name="pw1")(x)
    x = L.ReLU(6.0, name="relu6_2")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dense(10, name="fc")(x)
    out = L.Softmax(name="prob")(x)
    return tf.keras.Model(inp, out, name="tiny_keras_cnn")


def build_flatten():
    """Second model: MaxPool + Flatten (tf2onnx must transpose back to NHWC before the dynamic-batch
    Reshape) + a tf.reshape by a run-time tf.shape(x)[0] (Shape/Slice/Concat/Reshape chain)."""
    tf.random.set_seed(1)
    L = tf.keras.layers
    inp = tf.keras.Input(shape=(16, 16, 3), name="image")
    x = L.Conv2D(4, 3, padding="valid", activation="relu", name="conv")(inp)   # 14x14x4
    x = L.MaxPooling2D(2, name="pool")(x)                                      # 7x7x4
    x = L.Flatten(name="flat")(x)                                              # 196
    x = L.Dense(12, activation="relu", name="fc1")(x)
    x = L.Lambda(lambda t: tf.reshape(t, tf.stack([tf.shape(t)[0], 3, 4])), output_shape=(3, 4),
                 name="split_heads")(x)                                        # [b,3,4]
    x = L.Lambda(lambda t: tf.reduce_sum(tf.expand_dims(t, 1), axis=[1, 3]), output_shape=(3,),
                 name="reduce")(x)                                             # [b,3]
    out = L.Dense(2, name="fc2")(x)
    return tf.keras.Model(inp, out, name="tiny_keras_flatten")


def convert(model, spec, out, info, key):
    try:
        tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path=out)
        info[key + "_path"] = "tf2onnx.convert.from_keras"
    except Exception as e:
        info[key + "_from_keras_error"] = repr(e)[:1000]

        @tf.function(input_signature=spec)
        def f(image):
            return model(image, training=False)

        tf2onnx.convert.from_function(f, input_signature=spec, opset=17, output_path=out)
        info[key + "_path"] = "tf2onnx.convert.from_function"


def main():
    info2 = {}
    m2 = build_flatten()
    spec2 = (tf.TensorSpec((None, 16, 16, 3), tf.float32, name="image"),)
    out2 = os.path.join(HERE, "tf2onnx_keras_flatten_dynbatch.onnx")
    convert(m2, spec2, out2, info2, "flatten")
    info2["flatten_params"] = int(m2.count_params())
    x2 = np.random.default_rng(1).standard_normal((3, 16, 16, 3)).astype(np.float32)
    np.save("/tmp/tf_ref2_in.npy", x2)
    np.save("/tmp/tf_ref2_out.npy", m2(x2, training=False).numpy())
    model = build()
    # give BN non-trivial statistics
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(np.linspace(-0.1, 0.1, n).astype(np.float32))
            layer.moving_variance.assign(np.linspace(0.5, 1.5, n).astype(np.float32))
    spec = (tf.TensorSpec((None, 32, 32, 3), tf.float32, name="image"),)
    info = {"tensorflow": tf.__version__, "keras": tf.keras.__version__ if hasattr(tf.keras, "__version__") else None,
            "tf2onnx": tf2onnx.__version__,
            "params_keras_count_params": int(model.count_params()),
            "params_trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "opset": 17}
    try:
        tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path=OUT)
        info["path"] = "tf2onnx.convert.from_keras"
    except Exception as e:
        info["from_keras_error"] = repr(e)[:1000]

        @tf.function(input_signature=spec)
        def f(image):
            return model(image, training=False)

        tf2onnx.convert.from_function(f, input_signature=spec, opset=17, output_path=OUT)
        info["path"] = "tf2onnx.convert.from_function"
    x = np.random.default_rng(0).standard_normal((3, 32, 32, 3)).astype(np.float32)
    ref = model(x, training=False).numpy()
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(OUT, providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        info["ort_vs_tf_max_abs_err"] = float(np.max(np.abs(got - ref)))
    except ImportError:
        np.save("/tmp/tf_ref_in.npy", x)
        np.save("/tmp/tf_ref_out.npy", ref)
        info["ort_check"] = "onnxruntime not in this venv; reference saved to /tmp/tf_ref_{in,out}.npy"
    info.update(info2)
    with open(os.path.join(HERE, "tf2onnx_info.json"), "w") as fh:
        json.dump(info, fh, indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
