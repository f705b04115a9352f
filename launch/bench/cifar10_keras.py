"""Keras/TensorFlow peer of configs/cnn_cifar10.json: the same CNN, Adam 1e-3 (eps 1e-7), batch
64 (= 2 ranks x 32), 10 epochs with a test-set evaluation after each, on the real CIFAR-10.
usage: cifar10_keras.py DATA_DIR [--threads T] [--epochs E] [--batch B]
Prints one JSON line: wall seconds (data loading excluded, as in ddp's own figure), CPU
seconds, final test accuracy."""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("data_dir")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--batch", type=int, default=64)
args = ap.parse_args()
for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
    os.environ[k] = str(args.threads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cifar10_data  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(args.threads)
keras.utils.set_random_seed(42)
(x_train, y_train), (x_test, y_test) = cifar10_data.load(args.data_dir)

model = keras.Sequential([
    keras.Input((32, 32, 3)),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-7),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
t0, c0 = time.perf_counter(), os.times()
hist = model.fit(x_train, y_train, batch_size=args.batch, epochs=args.epochs,
                 validation_data=(x_test, y_test), validation_batch_size=256, verbose=2)
t1, c1 = time.perf_counter(), os.times()
print(json.dumps(dict(framework="keras", version=f"tensorflow {tf.__version__}",
                      threads=args.threads, batch=args.batch, epochs=args.epochs,
                      wall_s=round(t1 - t0, 1),
                      cpu_s=round((c1.user - c0.user) + (c1.system - c0.system), 1),
                      test_accuracy=round(float(hist.history["val_accuracy"][-1]), 4))))
