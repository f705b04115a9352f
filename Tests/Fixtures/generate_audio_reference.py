#!/usr/bin/env python3
"""Reference log-mel and MFCC features from librosa for SwiftDDP's audio feature tests.

The signal is a closed formula (the Swift test rebuilds it), 0.25 s at 16 kHz:
    x[n] = 0.5*sin(2*pi*440*n/16000) + 0.25*sin(2*pi*1850*n/16000 + 0.3) + 0.1*sin(1e-4*n*n) + 0.05*sin(0.731*n*n)
Settings: 25 ms Hann window (400 samples, periodic), 10 ms hop (160), FFT 512, 40 HTK mel
bands from 0 Hz to 8 kHz without area normalisation, ln(max(E, 1e-10)), orthonormal DCT-II,
13 coefficients, no centring pad.

librosa centres a 400-sample window inside its 512-sample frames (56 zeros each side), so it
is given the signal with 56 leading zeros: its frame t then holds exactly samples
t*160 ..< t*160+400 under the window, which is SwiftDDP's frame t.

Re-run (from the repository root):
    python3 -m venv v && v/bin/pip install librosa
    v/bin/python Tests/Fixtures/generate_audio_reference.py
"""

import json
from pathlib import Path

import librosa
import numpy as np
import scipy

HERE = Path(__file__).resolve().parent
SR, N_FFT, WIN, HOP, MELS, MFCC, COUNT = 16000, 512, 400, 160, 40, 13, 4000

n = np.arange(COUNT, dtype=np.float64)
x = 0.5 * np.sin(2 * np.pi * 440 * n / SR) + 0.25 * np.sin(2 * np.pi * 1850 * n / SR + 0.3) + 0.1 * np.sin(1e-4 * n * n) + 0.05 * np.sin(0.731 * n * n)
pad = (N_FFT - WIN) // 2
y = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
power = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann",
                                       center=False, power=2.0, n_mels=MELS, fmin=0.0, fmax=SR / 2, htk=True, norm=None,
                                       dtype=np.float64)
frames = 1 + (COUNT - WIN) // HOP
power = power[:, :frames]
log_mel = np.log(np.maximum(power, 1e-10))
mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=MFCC, dct_type=2, norm="ortho")
filters = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=MELS, fmin=0.0, fmax=SR / 2, htk=True, norm=None, dtype=np.float64)

fixture = {
    "generator": "Tests/Fixtures/generate_audio_reference.py",
    "versions": {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
    "signal": {"formula": "0.5*sin(2*pi*440*n/16000) + 0.25*sin(2*pi*1850*n/16000 + 0.3) + 0.1*sin(1e-4*n*n) + 0.05*sin(0.731*n*n)",
               "sample_rate": SR, "count": COUNT},
    "settings": {"window": WIN, "hop": HOP, "fft": N_FFT, "mel_bands": MELS, "coefficients": MFCC},
    "frames": frames,
    "filter_sums": filters.sum(axis=1).tolist(),
    "log_mel": log_mel.T.tolist(),
    "mfcc": mfcc.T.tolist(),
}
(HERE / "audio_features.json").write_text(json.dumps(fixture, indent=1) + "\n")
print(f"wrote {HERE / 'audio_features.json'}: {frames} frames, log-mel range {log_mel.min():.3f}..{log_mel.max():.3f}")
