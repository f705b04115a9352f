"""CIFAR-10 from the project's data directory (the binary version, each file gzip-compressed),
as NHWC float32 in [0, 1] — the same files and scaling ("scale": "unit") the ddp job reads."""
import gzip
import os

import numpy as np


def _read(path):
    with gzip.open(path, "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8)
    if raw.size % 3073:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of 3073-byte records")
    rec = raw.reshape(-1, 3073)
    labels = rec[:, 0].astype(np.int64)
    images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images.astype(np.float32) / 255.0, labels


def load(data_dir):
    folder = os.path.join(data_dir, "cifar10")
    parts = [_read(os.path.join(folder, f"data_batch_{i}.bin.gz")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _read(os.path.join(folder, "test_batch.bin.gz"))
    return (x_train, y_train), (x_test, y_test)
