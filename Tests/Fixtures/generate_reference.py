#!/usr/bin/env python3
"""Generate the Keras reference fixtures for SwiftDDP's cross-framework tests.

Builds four small models in Keras 3 (TensorFlow backend, float32), sets every
weight and input from closed formulas (see README.md in this folder), and
records the loss, the model output and summaries of every gradient into
`<model>.json` beside this script. CI never runs this script: only the JSON
files are committed.

Re-run (from the repository root):
    python3 -m venv v && v/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1 numpy
    v/bin/python Tests/Fixtures/generate_reference.py

Besides writing the fixtures it checks itself, independently of TensorFlow:
a float64 NumPy re-implementation of each model (the semantics the Swift side
must mirror) must reproduce Keras' float64 loss, and central finite
differences of that NumPy loss must reproduce Keras' gradients at sampled
entries. The script fails if either check fails.
"""

import os

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's fused kernels change float32 round-off from machine to machine;
# the plain Eigen kernels keep the fixtures reproducible.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import json
import math
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
import keras

HERE = Path(__file__).resolve().parent
N_SAMPLES = 48
SAMPLE_STRIDE = 7919

tf.config.experimental.enable_op_determinism()


# ---------------------------------------------------------------------------
# Closed formulas for weights, inputs and labels (mirrored by the Swift side)
# ---------------------------------------------------------------------------

def weight_kind(path):
    if path.endswith("gamma"):
        return "gamma"
    if path.endswith("bias") or path.endswith("beta"):
        return "bias"
    return "kernel"


def weight_values(path, t, shape):
    """float64 values of weight number t (0-based, Keras order), row-major."""
    count = int(np.prod(shape))
    i = np.arange(count, dtype=np.float64)
    s = np.sin(0.731 * i + 1.37 * (t + 1))
    kind = weight_kind(path)
    if kind == "gamma":
        v = 1.0 + 0.1 * s
    elif kind == "bias":
        v = 0.1 * s
    else:
        last = shape[-1]
        v = s / math.sqrt(count / last)
    return v.reshape(shape)


def cnn_input(shape):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (0.5 + 0.5 * np.sin(0.37 * i + 0.5)).reshape(shape)


def gan_input(shape):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return np.tanh(2.0 * np.sin(0.37 * i + 0.5)).reshape(shape)


def token_ids(batch, length, vocab):
    b = np.arange(batch)[:, None]
    l = np.arange(length)[None, :]
    return ((b * 131 + l * 17 + 5) % vocab).astype(np.int32)


def class_labels(batch, classes):
    return ((np.arange(batch) * 7 + 3) % classes).astype(np.int32)


def f32(a):
    """Cast float64 formula values to float32 (what both sides use)."""
    return np.asarray(a, dtype=np.float64).astype(np.float32)


# ---------------------------------------------------------------------------
# Keras models (explicit layer names so weight paths are stable)
# ---------------------------------------------------------------------------

def build_seed_cnn():
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(32, 3, activation="relu", padding="valid", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(64, 3, activation="relu", padding="valid", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(64, activation="relu", name="fc1"),
        keras.layers.Dense(10, activation="softmax", name="fc2"),
    ], name="seed_cnn")


def build_transformer(causal):
    key_dim = 16 if causal else 8
    ids = keras.Input(shape=(8,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(50, 32, name="embedding")(ids)
    a = keras.layers.MultiHeadAttention(num_heads=4, key_dim=key_dim, dropout=0.0,
                                        name="mha")(x, x, use_causal_mask=causal)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="ln1")(x + a)
    f = keras.layers.Dense(64, activation="relu", name="ffn1")(x)
    f = keras.layers.Dense(32, name="ffn2")(f)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="ln2")(x + f)
    x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    out = keras.layers.Dense(3, activation="softmax", name="classifier")(x)
    return keras.Model(ids, out, name="transformer_block_causal" if causal else "transformer_block")


def build_gan_discriminator():
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, name="d_dense1"),
        keras.layers.LeakyReLU(negative_slope=0.2, name="d_lrelu1"),
        keras.layers.Dense(256, name="d_dense2"),
        keras.layers.LeakyReLU(negative_slope=0.2, name="d_lrelu2"),
        keras.layers.Dense(1, activation="sigmoid", name="d_out"),
    ], name="gan_discriminator")


# ---------------------------------------------------------------------------
# NumPy float64 re-implementation (independent check of the semantics)
# ---------------------------------------------------------------------------

def np_conv2d_valid(x, k, b):
    kh, kw = k.shape[0], k.shape[1]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    # win: [B, Ho, Wo, C, kh, kw]; cross-correlation, no kernel flip
    return np.einsum("bijcuv,uvco->bijo", win, k) + b


def np_maxpool2(x, probe=None, key=None):
    B, H, W, C = x.shape
    Ho, Wo = H // 2, W // 2
    win = x[:, :2 * Ho, :2 * Wo, :].reshape(B, Ho, 2, Wo, 2, C)
    if probe is not None:
        # gap between the largest and second-largest entry of each window whose
        # max is positive (all-zero windows after ReLU tie, but pass no gradient)
        v = np.sort(win.transpose(0, 1, 3, 5, 2, 4).reshape(B, Ho, Wo, C, 4), axis=-1)
        live = v[..., -1] > 0
        probe[key] = float(np.min((v[..., -1] - v[..., -2])[live]))
    return win.max(axis=(2, 4))


def np_relu(z, probe=None, key=None):
    if probe is not None:
        probe[key] = float(np.min(np.abs(z)))   # distance to the kink
    return np.maximum(z, 0)


def np_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def np_layernorm(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)   # biased variance
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


def np_seed_cnn(w, x, probe=None):
    h = np_relu(np_conv2d_valid(x, w[0], w[1]), probe, "conv1_relu_min_abs_preact")
    h = np_maxpool2(h, probe, "pool1_min_top2_gap")
    h = np_relu(np_conv2d_valid(h, w[2], w[3]), probe, "conv2_relu_min_abs_preact")
    h = np_maxpool2(h, probe, "pool2_min_top2_gap")
    h = h.reshape(h.shape[0], -1)                        # channels-last flatten
    h = np_relu(h @ w[4] + w[5], probe, "fc1_relu_min_abs_preact")
    return np_softmax(h @ w[6] + w[7])


def np_transformer(w, ids, causal, probe=None):
    emb, wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, wf1, bf1, wf2, bf2, g2, b2, wc, bc = w
    x = emb[ids]                                         # [B, L, E]
    key_dim = wq.shape[-1]
    q = np.einsum("ble,ehd->blhd", x, wq) + bq
    k = np.einsum("ble,ehd->blhd", x, wk) + bk
    v = np.einsum("ble,ehd->blhd", x, wv) + bv
    s = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(key_dim)
    if probe is not None:
        probe["attention_scores_max_abs"] = float(np.max(np.abs(s)))
    if causal:
        L = ids.shape[1]
        allowed = np.tril(np.ones((L, L), dtype=bool))   # query i sees keys j <= i
        s = np.where(allowed, s, -np.inf)
    p = np_softmax(s, axis=-1)
    o = np.einsum("bhqk,bkhd->bqhd", p, v)
    a = np.einsum("bqhd,hde->bqe", o, wo) + bo
    x = np_layernorm(x + a, g1, b1, 1e-6)
    f = np_relu(x @ wf1 + bf1, probe, "ffn1_relu_min_abs_preact") @ wf2 + bf2
    x = np_layernorm(x + f, g2, b2, 1e-6)
    x = x.mean(axis=1)
    return np_softmax(x @ wc + bc)


# tf.nn.leaky_relu stores its slope as a float32 attribute, so Keras uses
# float32(0.2) = 0.20000000298023224 even in float64.
LEAKY_SLOPE = float(np.float32(0.2))


def np_gan(w, x, probe=None):
    def lrelu(z, key):
        if probe is not None:
            probe[key] = float(np.min(np.abs(z)))
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    h = lrelu(x @ w[0] + w[1], "d_lrelu1_min_abs_preact")
    h = lrelu(h @ w[2] + w[3], "d_lrelu2_min_abs_preact")
    z = h @ w[4] + w[5]
    return 1.0 / (1.0 + np.exp(-z))


def np_cce(probs, onehot):
    return float(np.mean(-np.sum(onehot * np.log(probs), axis=-1)))


def np_scce(probs, labels):
    return float(np.mean(-np.log(probs[np.arange(len(labels)), labels])))


def np_bce(probs, y):
    return float(np.mean(-(y * np.log(probs) + (1 - y) * np.log(1 - probs))))


# ---------------------------------------------------------------------------
# Model specs
# ---------------------------------------------------------------------------

def spec_seed_cnn():
    B, classes = 2, 10
    x = cnn_input((B, 32, 32, 3))
    labels = class_labels(B, classes)
    onehot = np.eye(classes)[labels]
    return dict(
        name="seed_cnn", build=build_seed_cnn, batch=B, param_count=167562,
        x=x, x_is_float=True, input_grad=True,
        input_desc={"kind": "float", "shape": [B, 32, 32, 3],
                    "formula": "0.5 + 0.5*sin(0.37*i + 0.5)"},
        y_keras=onehot, labels_desc={"kind": "one_hot", "classes": classes,
                                     "formula": "(b*7 + 3) % classes",
                                     "values": labels.tolist()},
        loss_fn=lambda dt: keras.losses.CategoricalCrossentropy(dtype=dt),
        loss_desc=("keras.losses.CategoricalCrossentropy() on one-hot labels, mean over the batch; "
                   "the model ends in softmax, so Keras uses the cached logits z: "
                   "mean_b(logsumexp(z_b) - z_b[label_b]), no clipping"),
        np_forward=np_seed_cnn, np_loss=lambda p: np_cce(p, onehot),
    )


def spec_transformer(causal):
    B, L, vocab, classes = 2, 8, 50, 3
    ids = token_ids(B, L, vocab)
    labels = class_labels(B, classes)
    return dict(
        name="transformer_block_causal" if causal else "transformer_block",
        build=lambda: build_transformer(causal), batch=B, param_count=None,
        x=ids, x_is_float=False, input_grad=False,
        input_desc={"kind": "token_ids", "shape": [B, L], "vocab": vocab,
                    "formula": "(b*131 + l*17 + 5) % vocab",
                    "values": ids.tolist()},
        y_keras=labels, labels_desc={"kind": "sparse", "classes": classes,
                                     "formula": "(b*7 + 3) % classes",
                                     "values": labels.tolist()},
        loss_fn=lambda dt: keras.losses.SparseCategoricalCrossentropy(dtype=dt),
        loss_desc=("keras.losses.SparseCategoricalCrossentropy(), mean over the batch; "
                   "the model ends in softmax, so Keras uses the cached logits z: "
                   "mean_b(logsumexp(z_b) - z_b[label_b]), no clipping"),
        np_forward=lambda w, x, probe=None: np_transformer(w, x, causal, probe),
        np_loss=lambda p: np_scce(p, labels),
    )


def spec_gan():
    B = 4
    x = gan_input((B, 784))
    y = np.array([1.0] * (B // 2) + [0.0] * (B - B // 2)).reshape(B, 1)
    return dict(
        name="gan_discriminator", build=build_gan_discriminator, batch=B, param_count=None,
        x=x, x_is_float=True, input_grad=True,
        input_desc={"kind": "float", "shape": [B, 784],
                    "formula": "tanh(2*sin(0.37*i + 0.5))"},
        y_keras=y, labels_desc={"kind": "binary", "shape": [B, 1],
                                "formula": "1 for b < B/2, else 0",
                                "values": y.reshape(-1).tolist()},
        loss_fn=lambda dt: keras.losses.BinaryCrossentropy(dtype=dt),
        loss_desc=("keras.losses.BinaryCrossentropy(), mean over the batch; the model ends in "
                   "sigmoid, so Keras uses the cached logit z: "
                   "mean_b(max(z,0) - z*y + log(1 + exp(-|z|))), no clipping"),
        np_forward=np_gan, np_loss=lambda p: np_bce(p, y),
    )


# ---------------------------------------------------------------------------
# Running Keras
# ---------------------------------------------------------------------------

def make_model(spec, floatx):
    keras.config.set_floatx(floatx)
    try:
        keras.utils.clear_session()
        model = spec["build"]()
    finally:
        keras.config.set_floatx("float32")
    for t, v in enumerate(model.weights):
        vals = f32(weight_values(v.path, t, tuple(v.shape)))
        v.assign(vals.astype(floatx))
    return model


def keras_run(spec, floatx):
    model = make_model(spec, floatx)
    assert all(w.dtype == floatx for w in model.weights), [w.dtype for w in model.weights]
    if spec["x_is_float"]:
        x = tf.constant(f32(spec["x"]).astype(floatx))
    else:
        x = tf.constant(spec["x"])
    y = tf.constant(spec["y_keras"].astype(floatx) if spec["y_keras"].dtype.kind == "f"
                    else spec["y_keras"])
    # The loss object's dtype defaults to float32; the float64 run must keep float64.
    loss_obj = spec["loss_fn"](floatx)
    with tf.GradientTape() as tape:
        if spec["x_is_float"]:
            tape.watch(x)
        out = model(x, training=True)
        has_logits_shortcut = hasattr(out, "_keras_logits")
        loss = loss_obj(y, out)
    sources = list(model.trainable_weights)
    assert [w.path for w in sources] == [w.path for w in model.weights]
    if spec["input_grad"]:
        sources = sources + [x]
    grads = tape.gradient(loss, sources)
    # Embedding gradients come back as IndexedSlices; densify them.
    grads = [np.asarray(tf.convert_to_tensor(g), dtype=np.float64) for g in grads]
    return dict(model=model, loss=float(loss), out=np.asarray(out, dtype=np.float64),
                w_grads=grads[:len(model.weights)],
                x_grad=grads[-1] if spec["input_grad"] else None,
                logits_shortcut=has_logits_shortcut)


# ---------------------------------------------------------------------------
# Summaries and JSON
# ---------------------------------------------------------------------------

def sample_indices(count):
    seen, out = set(), []
    for k in range(N_SAMPLES):
        i = (k * SAMPLE_STRIDE) % count
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def summary(a):
    flat = np.asarray(a, dtype=np.float64).reshape(-1)
    return {
        "sum": float(flat.sum()),
        "l2": float(np.sqrt(np.sum(flat * flat))),
        "max_abs": float(np.max(np.abs(flat))),
        "samples": [[i, float(flat[i])] for i in sample_indices(flat.size)],
    }


def layer_table(model):
    rows = []
    for layer in model.layers:
        shape = layer.output.shape if hasattr(layer, "output") else None
        rows.append({
            "name": layer.name,
            "class": type(layer).__name__,
            "output_shape": [d for d in shape] if shape is not None else None,
            "params": int(layer.count_params()),
            "weights": [w.path for w in layer.weights],
        })
    return rows


def dumps_fixture(obj):
    """Pretty-print with one line per weight entry so the file stays small."""
    lines = ["{"]
    keys = list(obj.keys())
    for n, k in enumerate(keys):
        sep = "," if n + 1 < len(keys) else ""
        v = obj[k]
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"  {json.dumps(k)}: [")
            for m, item in enumerate(v):
                isep = "," if m + 1 < len(v) else ""
                lines.append("    " + json.dumps(item, separators=(",", ":")) + isep)
            lines.append("  ]" + sep)
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{sep}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

def f32_error(g32, g64):
    """How far Keras' own float32 gradient is from its float64 one, relative to
    the tensor's largest float64 entry (inf when the float64 gradient is 0)."""
    scale = float(np.max(np.abs(g64)))
    diff = float(np.max(np.abs(g32 - g64)))
    return diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)


FD_STEPS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


def finite_difference(lossf, fwd, w64, x64, arr, idx, loss0):
    """4-point central differences at several steps.  Yields (h, fd, noise),
    noise being the round-off error bar of that estimate."""
    flat = arr.reshape(-1)
    assert np.shares_memory(flat, arr)
    orig = flat[idx]
    for h0 in FD_STEPS:
        h = h0 * max(1.0, abs(orig))
        vals = []
        for m in (2, 1, -1, -2):
            flat[idx] = orig + m * h
            vals.append(lossf(fwd(w64, x64)))
        flat[idx] = orig
        fd = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
        noise = 10 * np.finfo(np.float64).eps * max(abs(loss0), 1.0) / h
        yield h, fd, noise


def check_model(spec, r32, r64, failures):
    """NumPy float64 forward vs Keras float64; finite differences vs Keras grads."""
    name = spec["name"]
    w64 = [f32(weight_values(w.path, t, tuple(w.shape))).astype(np.float64)
           for t, w in enumerate(r32["model"].weights)]
    x64 = f32(spec["x"]).astype(np.float64) if spec["x_is_float"] else spec["x"]
    fwd, lossf = spec["np_forward"], spec["np_loss"]

    margins = {}
    probs = fwd(w64, x64, margins)
    np_loss = lossf(probs)
    out_np_vs_k64 = float(np.max(np.abs(probs - r64["out"])))
    loss_np_vs_k64 = abs(np_loss - r64["loss"]) / abs(r64["loss"])
    loss_k32_vs_k64 = abs(r32["loss"] - r64["loss"]) / abs(r64["loss"])
    if loss_np_vs_k64 > 1e-9 or out_np_vs_k64 > 1e-9:
        failures.append(f"{name}: numpy loss/output differs from Keras float64 "
                        f"({loss_np_vs_k64:.3e}, {out_np_vs_k64:.3e})")

    # Central finite differences of the NumPy loss at the first sampled entries
    # of every tensor, against Keras' float64 gradient. An entry passes when at
    # least one step size agrees within 1e-6 relative plus that step's round-off
    # error bar (large steps can straddle a ReLU/max-pool kink, small ones
    # drown in round-off, so several are tried).
    targets = [(f"t={t}", w64[t], r64["w_grads"][t]) for t in range(len(w64))]
    if spec["input_grad"]:
        targets.append(("input", x64, r64["x_grad"]))
    n_fd, worst = 0, 0.0
    for label, arr, g64 in targets:
        picks = sample_indices(g64.size)[:4]
        top = int(np.argmax(np.abs(g64)))          # also the largest entry (e.g. a used embedding row)
        for idx in picks + ([top] if top not in picks else []):
            g = float(g64.reshape(-1)[idx])
            best, ok = math.inf, False
            for h, fd, noise in finite_difference(lossf, fwd, w64, x64, arr, idx, np_loss):
                tol = 1e-6 * abs(g) + noise
                err = abs(fd - g)
                best = min(best, err / tol)
                if err <= tol:
                    ok = True
                    break
            n_fd += 1
            worst = max(worst, best)
            if not ok:
                failures.append(f"{name}: FD mismatch at {label}[{idx}]: keras64={g!r}")
    return {
        "numpy_float64_loss": np_loss,
        "keras_float64_loss": r64["loss"],
        "loss_rel_diff_numpy64_vs_keras64": loss_np_vs_k64,
        "loss_rel_diff_keras32_vs_keras64": loss_k32_vs_k64,
        "output_max_abs_diff_numpy64_vs_keras64": out_np_vs_k64,
        "finite_difference_entries": n_fd,
        "finite_difference_worst_err_over_tol": worst,
        "margins": margins,
        "min_output_probability": float(np.min(probs)),
        "max_output_probability": float(np.max(probs)),
    }


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def run(spec, failures):
    name = spec["name"]
    r32 = keras_run(spec, "float32")
    r64 = keras_run(spec, "float64")
    model = r32["model"]
    n_params = int(model.count_params())
    if spec["param_count"] is not None:
        assert n_params == spec["param_count"], (name, n_params)

    print(f"\n=== {name}: {n_params} params, loss {r32['loss']!r}")
    print("  layers:")
    for row in layer_table(model):
        print(f"    {row['name']:<12} {row['class']:<22} out={row['output_shape']} params={row['params']}")
    print("  weights (Keras order), gradient max_abs and float32-vs-float64 error:")
    for t, w in enumerate(model.weights):
        g, g64 = r32["w_grads"][t], r64["w_grads"][t]
        print(f"    t={t:<2} {w.path:<36} {str(tuple(w.shape)):<16} "
              f"max_abs={np.max(np.abs(g64)):.3e} f32_err={f32_error(g, g64):.2e}")
    if spec["input_grad"]:
        g, g64 = r32["x_grad"], r64["x_grad"]
        print(f"    input{'':<36} {str(g.shape):<16} "
              f"max_abs={np.max(np.abs(g64)):.3e} f32_err={f32_error(g, g64):.2e}")

    checks = check_model(spec, r32, r64, failures)
    checks["keras_softmax_sigmoid_logits_shortcut"] = bool(r32["logits_shortcut"])
    for k, v in checks.items():
        print(f"  check {k}: {v}")

    global_scale = max(float(np.max(np.abs(g))) for g in r64["w_grads"])
    weights = []
    for t, (w, g, g64) in enumerate(zip(model.weights, r32["w_grads"], r64["w_grads"])):
        shape = [int(d) for d in w.shape]
        vals = f32(weight_values(w.path, t, tuple(shape))).astype(np.float64)
        weights.append({
            "t": t,
            "path": w.path,
            "name": w.name,
            "shape": shape,
            "count": int(np.prod(shape)),
            "init": weight_kind(w.path),
            "value_sum": float(vals.sum()),
            "grad": summary(g),
            "grad_float64": summary(g64),
            "f32_err": f32_error(g, g64),
            "mathematically_zero": bool(np.max(np.abs(g64)) <= 1e-12 * global_scale),
        })

    fixture = {
        "model": name,
        "format_version": 1,
        "generator": "Tests/Fixtures/generate_reference.py",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "numpy": np.__version__},
        "dtype": "float32",
        "batch": spec["batch"],
        "input": dict(spec["input_desc"],
                      **({"value_sum": float(f32(spec["x"]).astype(np.float64).sum())}
                         if spec["x_is_float"] else {})),
        "labels": spec["labels_desc"],
        "loss_function": spec["loss_desc"],
        "loss": r32["loss"],
        "loss_float64": r64["loss"],
        "param_count": n_params,
        "output": {"shape": list(r32["out"].shape),
                   "values": [float(v) for v in r32["out"].reshape(-1)],
                   **{k: v for k, v in summary(r32["out"]).items() if k != "samples"}},
        "input_grad": (dict(summary(r32["x_grad"]),
                            grad_float64=summary(r64["x_grad"]),
                            f32_err=f32_error(r32["x_grad"], r64["x_grad"]))
                       if spec["input_grad"] else None),
        "checks": checks,
        "layers": layer_table(model),
        "weights": weights,
    }
    text = dumps_fixture(fixture)
    json.loads(text)  # round-trip sanity
    path = HERE / f"{name}.json"
    path.write_text(text)
    print(f"  wrote {path.relative_to(HERE.parent.parent)} ({len(text)} bytes)")


def main():
    failures = []
    for spec in [spec_seed_cnn(), spec_transformer(False), spec_transformer(True), spec_gan()]:
        run(spec, failures)
    if failures:
        print("\nFAILED CHECKS:")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
