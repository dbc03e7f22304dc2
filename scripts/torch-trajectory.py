#!/usr/bin/env python3
"""Writes the fixture of Spiking.Tests' TorchTrajectoryTests: a few Adam steps of W1 and W2 as PyTorch takes
them (the peer models of ../shared/peers), from weights both engines compute from one integer hash and on
inputs stored in the fixture, so that a whole training step (forward, surrogate backward through time, batch
norm, pooling, MSE, Adam) is compared with PyTorch's, not only its parts.

    /usr/bin/python3 scripts/torch-trajectory.py --out Spiking.Tests/Fixtures/torch_trajectory.safetensors

W1's Poisson spikes are drawn here and stored bit-packed (bit j of byte k is input 8k + j); W2's input is the
stored image itself at every step. Recorded: the loss of every step, W2's loss in evaluation mode after the
last step (its running statistics), every final parameter and buffer of up to 20,000 elements, and 4,096
probed elements of the larger ones (element (7919 j + 13) mod n). The metadata lists each model's state-dict
names in order: tensor k of that list is initialised from hash stream k."""
import argparse
import json
import os
import struct
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "peers"))
import common  # noqa: E402
import torch_w1  # noqa: E402
import torch_w2  # noqa: E402

import numpy as np  # noqa: E402

torch = common.require_torch()
F = torch.nn.functional
STEPS, BATCH = 12, 8
FULL_LIMIT, PROBES = 20_000, 4096
MASK = (1 << 64) - 1


def hashed_uniform(count, tensor_index, bound):
    """bound * (2u - 1) with u from a splitmix-style hash of (element, tensor): the init both engines compute."""
    x = (np.arange(1, count + 1, dtype=np.uint64) + np.uint64((0x632BE59BD9B4E019 * tensor_index) & MASK))
    x = (x ^ (x >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
    x = (x ^ (x >> np.uint64(33))) * np.uint64(0xC4CEB9FE1A85EC53)
    x = x ^ (x >> np.uint64(33))
    u = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return (bound * (2.0 * u - 1.0)).astype(np.float32)


def hashed_init(model):
    """Every weight and bias of a Linear or Conv2d from the hash, bound 1/sqrt(fan_in) as PyTorch's default;
    batch norm keeps weight 1, bias 0. Tensors are numbered in state-dict order."""
    state = common.flat_state_dict(model)
    fan_in = {}
    for i, m in enumerate(model):
        inner = m[0] if isinstance(m, common.SeqToANN) and len(m) == 1 else m
        if isinstance(inner, (torch.nn.Linear, torch.nn.Conv2d)):
            w = inner.weight
            fan_in[i] = w[0].numel()
    with torch.no_grad():
        for k, (name, t) in enumerate(state.items()):
            layer = int(name.split(".")[0])
            if layer in fan_in:
                t.copy_(torch.from_numpy(hashed_uniform(t.numel(), k, fan_in[layer] ** -0.5)).view_as(t))


def record_state(model, out, prefix):
    for name, t in common.flat_state_dict(model).items():
        flat = t.detach().reshape(-1)
        if not flat.dtype.is_floating_point:
            continue
        if flat.numel() <= FULL_LIMIT:
            out[f"{prefix}{name}"] = flat.float().numpy().copy()
        else:
            idx = (7919 * np.arange(PROBES, dtype=np.int64) + 13) % flat.numel()
            out[f"{prefix}{name}@probe"] = flat[torch.from_numpy(idx)].float().numpy().copy()


def train(model, inputs, labels, out, prefix, eval_input=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    model.train()
    for x, y in zip(inputs, labels):
        opt.zero_grad(set_to_none=True)
        rate = model(x).mean(0)
        loss = F.mse_loss(rate, F.one_hot(y, 10).float())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out[f"{prefix}losses"] = np.array(losses, dtype=np.float64)
    if eval_input is not None:
        model.eval()
        with torch.no_grad():
            rate = model(eval_input).mean(0)
            out[f"{prefix}eval_loss"] = np.array([F.mse_loss(rate, F.one_hot(labels[0], 10).float()).item()])
    record_state(model, out, prefix)


def write_safetensors(path, tensors, metadata):
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64", np.dtype(np.uint8): "U8"}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=common.DATA_DIR)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tx, ty, _, _, source = common.load_fashion_mnist(args.data)
    if source != "fashion-mnist":
        sys.exit("error: the fixture needs the real Fashion-MNIST images")
    n = STEPS * BATCH
    images = tx[:n].reshape(STEPS, BATCH, 28, 28)
    labels = ty[:n].reshape(STEPS, BATCH)
    out = {"labels": labels.numpy().astype(np.int64)}

    w1 = torch_w1.build_model()
    hashed_init(w1)
    spikes = [torch_w1.encode(images[s].float().div(255), 8) for s in range(STEPS)]
    bits = np.stack([s.numpy().astype(np.uint8).reshape(8, BATCH, 784) for s in spikes])
    out["w1.spikes"] = np.packbits(bits, axis=-1, bitorder="little")
    train(w1, [s.reshape(8, BATCH, 784) for s in spikes], list(labels), out, "w1.")

    w2 = torch_w2.build_model()
    hashed_init(w2)
    out["w2.images"] = images.numpy().astype(np.uint8)
    inputs = [torch_w2.encode(images[s].float().div(255), 4) for s in range(STEPS)]
    train(w2, inputs, list(labels), out, "w2.", eval_input=inputs[0])

    meta = {"steps": str(STEPS), "batch": str(BATCH), "torch": torch.__version__,
            "generator": "scripts/torch-trajectory.py",
            "w1.names": ",".join(common.flat_state_dict(w1)), "w2.names": ",".join(common.flat_state_dict(w2))}
    write_safetensors(args.out, out, meta)
    print(f"wrote {args.out}: W1 losses {np.round(out['w1.losses'], 6).tolist()}, "
          f"W2 losses {np.round(out['w2.losses'], 6).tolist()}, W2 eval loss {out['w2.eval_loss'][0]:.6f}")


if __name__ == "__main__":
    main()
