#!/usr/bin/env python3
"""Seed corpus for the fuzz targets: small valid inputs of each format (and a few near misses),
written to OUT/<target>/. Usage: make_seeds.py OUT REPO (REPO: the checkout, for configs/)."""
import gzip, json, os, struct, sys, zlib

out, repo = sys.argv[1], sys.argv[2]


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


# Job configs: the shipped ones and a minimal one.
for name in sorted(os.listdir(os.path.join(repo, "configs"))):
    if name.endswith(".json"):
        with open(os.path.join(repo, "configs", name), "rb") as f:
            write("FuzzConfig", name, f.read())
minimal = {"name": "t", "task": "classification", "data": {"dataset": "mnist"},
           "model": {"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]},
           "loss": {"name": "sparse_categorical_crossentropy", "from_logits": True},
           "optimizer": {"name": "adam", "learning_rate": 0.001}, "training": {"epochs": 1, "batch_size": 8}}
write("FuzzConfig", "minimal.json", json.dumps(minimal).encode())

# IDX: 3 images of 4x5 and 5 labels, raw and gzipped.
images = struct.pack(">IIII", 0x803, 3, 4, 5) + bytes(range(60))
labels = struct.pack(">II", 0x801, 5) + bytes([3, 1, 4, 1, 5])
for name, data in [("images", images), ("labels", labels)]:
    write("FuzzIDX", name, data)
    write("FuzzIDX", name + ".gz", gzip.compress(data, mtime=0))

# WAV: 16-bit PCM, mono at 22,050 Hz (espeak-ng's) and stereo at 8 kHz with a LIST chunk.
def wav(rate, channels, samples, extra=b""):
    data = struct.pack("<%dh" % len(samples), *samples)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + extra + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


write("FuzzWAV", "mono.wav", wav(22050, 1, [int(8000 * ((i * 37) % 200 - 100) / 100) for i in range(600)]))
write("FuzzWAV", "stereo.wav", wav(8000, 2, [(i * 997) % 20000 - 10000 for i in range(400)], b"LIST" + struct.pack("<I", 3) + b"abc\0"))

# CIFAR-10: 2 records (label + 3072 bytes), raw and gzipped.
records = b"".join(bytes([label]) + bytes((i * 7 + label) % 256 for i in range(3072)) for label in (6, 9))
write("FuzzCIFAR", "batch.bin", records)
write("FuzzCIFAR", "batch.bin.gz", gzip.compress(records, mtime=0))


def safetensors(tensors, metadata, version):
    """tensors: [(name, shape, floats)]. version 2: tensor_crc32 + header_crc32; 1: data_crc32; None: no checksums."""
    data, entries, crcs, offset = b"", [], [], 0
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        entries.append((name, {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}))
        crcs.append("%08x" % zlib.crc32(raw))
        data += raw
        offset += len(raw)
    meta = dict(metadata)
    if version == 1:
        meta.update({"format": "pt", "format_version": "1", "data_crc32": "%08x" % zlib.crc32(data)})
    elif version == 2:
        meta.update({"format": "pt", "format_version": "2", "tensor_crc32": ",".join(crcs), "header_crc32": "00000000"})

    def header_bytes(meta):
        parts = ['"__metadata__":' + json.dumps(meta, sort_keys=True, separators=(",", ":"))] if meta else []
        parts += [json.dumps(n) + ":" + json.dumps(e, separators=(",", ":")) for n, e in entries]
        h = ("{" + ",".join(parts) + "}").encode()
        return h + b" " * ((8 - len(h) % 8) % 8)

    header = header_bytes(meta)
    if version == 2:
        meta["header_crc32"] = "%08x" % zlib.crc32(header)
        header = header_bytes(meta)
    return struct.pack("<Q", len(header)) + header + data


model = [("dense/kernel", [3, 2], [0.5, -1.0, 2.0, 0.0, 1.5, -0.25]), ("dense/bias", [2], [0.1, 0.2]),
         ("scalar", [], [3.0]), ("empty", [0, 4], [])]
info = {"step": "12", "epoch": "1", "rng_state": "", "config_digest": "0123456789abcdef", "model_name": "seed"}
write("FuzzSafetensors", "v2.safetensors", safetensors(model, info, 2))
write("FuzzSafetensors", "v1.safetensors", safetensors(model, info, 1))
write("FuzzSafetensors", "foreign.safetensors", safetensors(model[:2], {}, None))

# Near misses: an absurd header length, offsets past the end, a shape whose byte count overflows.
write("FuzzSafetensors", "absurd-length.safetensors", struct.pack("<Q", 1 << 60) + b"{}      ")
past_end = b'{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
write("FuzzSafetensors", "past-end.safetensors", struct.pack("<Q", len(past_end)) + past_end + bytes(8))
huge = b'{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}'
write("FuzzSafetensors", "huge-shape.safetensors", struct.pack("<Q", len(huge)) + huge + bytes(8))
# IDX headers announcing far more data than the file holds.
write("FuzzIDX", "huge-images", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(16))
write("FuzzIDX", "huge-labels", struct.pack(">II", 0x801, 0xFFFFFFFF) + bytes(16))


def png(width, height, color_type, bit_depth, rows, extra=b"", interlace=0):
    """A PNG of the given IHDR and raw rows (each row's bytes; filter type 0 is prepended)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    idat = zlib.compress(b"".join(b"\0" + r for r in rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def plte(entries):
    data = bytes(entries)
    return struct.pack(">I", len(data)) + b"PLTE" + data + struct.pack(">I", zlib.crc32(b"PLTE" + data))


# PNG: RGB, grey, grey + alpha, RGBA, a palette, 16-bit grey, 1-bit grey, and an Adam7 image.
write("FuzzImage", "rgb.png", png(3, 2, 2, 8, [bytes(range(9)), bytes(range(9, 18))]))
write("FuzzImage", "grey.png", png(2, 2, 0, 8, [b"\x00\x80", b"\xc0\xff"]))
write("FuzzImage", "grey-alpha.png", png(2, 1, 4, 8, [b"\x10\x00\x20\xff"]))
write("FuzzImage", "rgba.png", png(1, 2, 6, 8, [b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"]))
write("FuzzImage", "palette.png", png(3, 1, 3, 8, [b"\x00\x01\x02"], extra=plte([255, 0, 0, 0, 255, 0, 0, 0, 255])))
write("FuzzImage", "grey16.png", png(2, 1, 0, 16, [b"\x12\x34\xff\xff"]))
write("FuzzImage", "grey1.png", png(8, 1, 0, 1, [b"\xa5"]))
write("FuzzImage", "interlaced.png", png(1, 1, 2, 8, [b"\x01\x02\x03"], interlace=1))


def segment(marker, data):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data


# JPEG: an 8x8 baseline grey image of one DC value (all 128), with one-code Huffman tables: the
# DC difference 0 and the end of block are each the 1-bit code 0, so the scan is 00 then padding.
one_code = bytes([1] + [0] * 15) + b"\x00"
jpeg = (b"\xff\xd8" + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x3f" + b"\xff\xd9")
write("FuzzImage", "grey.jpg", jpeg)
