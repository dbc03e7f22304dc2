#!/usr/bin/env python3
"""Writes the fixture of Spiking.Tests' SpikeGptTorchTests: a small SpikeGPT of the PyTorch peer
(../shared/peers/torch_spikegpt.py: 2 blocks, width 16, 11 tokens, no dropout) with weights perturbed so that its
neurons fire, its logits, its training loss (cross-entropy, L2Wrap) and every parameter gradient on stored
windows, computed in float64 from the float32-rounded weights the fixture stores. The engine loads the same
weights by name and must give the same logits, loss and gradients to float32 rounding: a whole model, wired and
differentiated as the official code is, not only its ops.

    /usr/bin/python3 scripts/torch-spikegpt-fixture.py --out Spiking.Tests/Fixtures/torch_spikegpt.safetensors
"""
import argparse
import importlib
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "peers"))
import common  # noqa: E402
import torch_spikegpt as peer  # noqa: E402

import numpy as np  # noqa: E402

torch = common.require_torch()
write_safetensors = importlib.import_module("torch-trajectory").write_safetensors
VOCAB, LAYERS, WIDTH, BATCH, STEPS = 11, 2, 16, 3, 32


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.manual_seed(7)
    model = peer.SpikeGPT(VOCAB, LAYERS, WIDTH, dropout=0.0)
    peer.init_weights(model, "rwkv")
    with torch.no_grad():
        for q in model.parameters():  # as the peer's --check: large enough that the LIFs fire
            q.add_(torch.randn_like(q) * 0.5)
    model = model.double()
    with torch.no_grad():
        for q in model.parameters():
            q.copy_(q.float().double())  # the stored float32 weights, exactly
    idx = torch.randint(0, VOCAB, (BATCH, STEPS + 1))
    model.count_spikes(True)
    logits = model(idx[:, :-1])
    rates = model.firing_rates()
    model.count_spikes(False)
    loss = model(idx[:, :-1], idx[:, 1:])
    loss.backward()
    out = {"tokens": idx.numpy().astype(np.int64), "logits": logits.detach().numpy(),
           "loss": np.array([float(loss)], dtype=np.float64)}
    for name, q in model.named_parameters():
        out["model." + name] = q.detach().float().numpy()
        out["grad." + name] = q.grad.numpy()
    meta = {"vocab": str(VOCAB), "layers": str(LAYERS), "width": str(WIDTH), "batch": str(BATCH), "steps": str(STEPS),
            "firing_rates": " ".join(f"{k}={r:.3f}" for k, r in rates.items()), "torch_version": torch.__version__}
    write_safetensors(args.out, out, meta)
    print(f"wrote {args.out}: loss {float(loss):.6f}, firing rates {meta['firing_rates']}")


if __name__ == "__main__":
    main()
