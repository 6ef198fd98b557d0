"""Encoding throughput and clip-network inference cost for a 20-minute session on one CPU core, light vs seed.

Alternative measured in the same run: the seed preset (frame layout, 224x224 frames, as the
paper's code) against the light preset (window layout), both as clip networks (``model.scope: clip``;
the default session network is timed by benchmarks/bench_cv.py). Usage: python benchmarks/bench_model.py
"""
from __future__ import annotations

import time

import numpy as np
import torch

from pseudoface.encoding.encode import encode
from pseudoface.learning.model import CNNLSTM, count_parameters
from pseudoface.encoding.normalise import normalise_landmarks
from pseudoface.params import params_from_dict
from pseudoface.corpora.synthetic import Person, animate
from pseudoface.learning.train import eval_clips


def main(minutes: float = 20.0) -> None:
    torch.set_num_threads(1)
    frames = animate(Person(300, 5, 0, 1.0, 1.0), minutes * 60, 30.0, np.random.default_rng(0))
    xyz, valid = frames["landmarks"], ~frames["lost"]
    seconds = minutes * 60
    default = params_from_dict({}, ["model.scope=clip"])  # the light preset on the default window layout
    seed = params_from_dict({}, ["encode.layout=frame", "encode.frame_size=224", "model.preset=seed",
                                 "model.scope=clip", "model.clip_windows=16"])
    t = time.perf_counter()
    norm = normalise_landmarks(xyz, valid, 30.0, default)
    enc = encode(norm, default)
    t_enc = time.perf_counter() - t
    print(f"{minutes:g}-min session ({len(xyz)} frames): normalise + window-encode {t_enc:.2f} s "
          f"({seconds / t_enc:.0f}x real time), {enc.windows} windows of {enc.images.shape[1:]}")
    results = {}
    for name, params, images in (("light", default, enc.images),
                                 ("seed", seed, encode(normalise_landmarks(xyz, valid, 30.0, seed), seed).images)):
        model = CNNLSTM(images.shape[1], params.model.preset).eval()
        clips = torch.from_numpy(eval_clips(images, params.model.clip_windows))
        with torch.no_grad():
            model(clips[:1])  # warm-up
            t = time.perf_counter()
            for i in range(0, len(clips), 8):
                model(clips[i:i + 8])
            elapsed = time.perf_counter() - t
        covered = seconds if name == "light" else 16 / 30.0  # the seed scores only its first 16 frames
        results[name] = (elapsed, covered)
        print(f"  {name:8s} {count_parameters(model):>7} params, {len(clips)} clip(s) {tuple(clips.shape[1:])}: "
              f"inference {elapsed * 1000:.1f} ms on 1 core, covering {covered:.1f} s of video "
              f"-> {1000 * elapsed / covered:.3f} ms per second of video")
    d, s = results["light"], results["seed"]
    print(f"  compute per second of video, seed / light: {(s[0] / s[1]) / (d[0] / d[1]):.0f}x")
    print(f"  whole-session inference time, light / seed: {d[0] / s[0]:.2f}x "
          "(the light network reads all 20 min, the seed only 0.53 s)")


if __name__ == "__main__":
    main()
