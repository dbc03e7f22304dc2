#!/usr/bin/env python3
"""Bad-input survey of the `spiking` CLI: runs a fixed, seeded set of malformed inputs against the five input
surfaces (safetensors checkpoints, IDX data, golden JSON, command-line arguments, training stability and kills
during --out) and classifies what the program did with each: clear error, stack trace, bug report, hang or silent.

Python 3 standard library only. See README.md next to this file.

    python3 scripts/bad-inputs/survey.py --spiking "dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll" --out DIR

writes DIR/table.md (the summary table, also printed) and DIR/cases.jsonl (one line per case).
"""

import argparse
import array
import concurrent.futures
import gzip
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SURFACES = [
    ("safetensors", "safetensors via `eval --checkpoint`"),
    ("idx", "IDX data via `--data`"),
    ("golden", "golden JSON via `conformance`"),
    ("cli", "CLI arguments"),
    ("training", "training stability, kill during `--out`"),
]

# Outcomes, in table order.
CLEAR, TRACE, BUG, HANG, SILENT, OK, REFUSED = "clear error", "stack trace", "bug report", "hang", "silent", "ok", "refused"
OUTCOMES = [CLEAR, TRACE, BUG, HANG, SILENT, OK, REFUSED]

TRACE_RE = re.compile(r"^\s+at \S+\(", re.M)
BUG_RE = re.compile(r"(?i)(internal (error|bug)|this is a bug|please report|report (this|it) (at|to|on))")
WARN_RE = re.compile(r"(?i)\bwarn(ing)?\b")

LOG_LOCK = threading.Lock()


# ----------------------------------------------------------------------------------------------------------------
# Cases


class Case:
    """One bad input.

    expect: "error"  the program must exit non-zero with a clear message;
            "ok"     it must succeed (and `check`, if any, must hold, unless it printed a warning);
            "warn"   it must either print a warning line and succeed, or refuse with a clear error;
            "any"    a clean success or a clean refusal are both acceptable (only traces and hangs are bad).
    argv: the arguments after the spiking command; "{dir}" is replaced with the case's own folder (also its cwd).
    setup(dir): prepares files before the run. check(dir, stdout, stderr) -> (good, detail) after a zero exit.
    runner(case, ctx): runs the case itself and returns the result dict (kill tests).
    """

    def __init__(self, surface, name, argv=(), expect="error", timeout=None, setup=None, check=None, runner=None, stdin=None):
        self.surface, self.name, self.argv, self.expect = surface, name, list(argv), expect
        self.timeout, self.setup, self.check, self.runner, self.stdin = timeout, setup, check, runner, stdin
        self.dir = None


def seeded(seed, name):
    return random.Random((seed * 1_000_003) ^ zlib.crc32(name.encode()))


# ----------------------------------------------------------------------------------------------------------------
# safetensors helpers


def st_split(blob):
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def st_join(header, data, hlen=None, pad=True):
    """header: dict (serialised compactly, padded with spaces to 8) or bytes (used as is)."""
    h = header if isinstance(header, (bytes, bytearray)) else json.dumps(header, separators=(",", ":")).encode()
    if pad and not isinstance(header, (bytes, bytearray)):
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if hlen is None else hlen) + bytes(h) + bytes(data)


def st_build(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes) in data order."""
    header, data, off = {}, bytearray(), 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    return st_join(header, data)


def st_tensors(blob):
    """(metadata, [(name, dtype, shape, bytes)]) in data order."""
    header, data = st_split(blob)
    meta = header.pop("__metadata__", None)
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return meta, [(k, v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in items]


def f32(raw):
    a = array.array("f")
    a.frombytes(raw)
    return a


def checkpoint_state(path):
    """'missing', 'corrupt: why', or 'valid' (+ ', non-finite' when an F32 holds NaN/Inf)."""
    if not os.path.isfile(path):
        return "missing"
    try:
        blob = open(path, "rb").read()
        header, data = st_split(blob)
        end = 0
        finite = True
        for k, v in sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]):
            b, e = v["data_offsets"]
            if b != end:
                return "corrupt: offsets do not tile"
            end = e
            if v["dtype"] == "F32":
                vals = f32(data[b:e])
                if any(x != x or x in (float("inf"), float("-inf")) for x in vals):
                    finite = False
        if end != len(data):
            return "corrupt: %d data bytes, tensors cover %d" % (len(data), end)
        return "valid" if finite else "valid, non-finite"
    except Exception as e:  # noqa: BLE001 - any failure means a corrupt file
        return "corrupt: %s" % type(e).__name__


def tmp_leftovers(directory):
    return sorted(n for n in os.listdir(directory) if n.startswith(".") and n.endswith(".tmp"))


# ----------------------------------------------------------------------------------------------------------------
# IDX helpers


def idx(magic, dims, payload):
    return struct.pack(">i", magic) + b"".join(struct.pack(">i", d) for d in dims) + bytes(payload)


IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


# ----------------------------------------------------------------------------------------------------------------
# Running


class Context:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.spiking = resolve_command(args.spiking)
        self.env = dict(os.environ)
        self.env.update({"DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1", "NO_COLOR": "1", "TERM": "dumb"})
        self.data = os.path.join(work, "data")
        self.env["FASHION_MNIST_DIR"] = self.data  # an option the survey forgets never loads the full set
        self.golden = [os.path.abspath(g) for g in args.golden]


def resolve_command(text):
    parts = shlex.split(text)
    out = []
    for p in parts:
        if not os.path.isabs(p):
            for base in (os.getcwd(), REPO):
                if os.path.exists(os.path.join(base, p)) and p not in ("dotnet",):
                    p = os.path.abspath(os.path.join(base, p))
                    break
        out.append(p)
    return out


def run_process(ctx, argv, cwd, timeout, stdin=None):
    """(rc, timed_out, seconds, stdout, stderr); kills the whole process group at the timeout."""
    cmd = ctx.spiking + argv
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=ctx.env, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(input=stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        timed_out = True
    return p.returncode, timed_out, time.monotonic() - t0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def nonempty_lines(text):
    return [l for l in text.splitlines() if l.strip()]


def classify(expect, rc, timed_out, out, err, check_result):
    if timed_out:
        return HANG
    both = out + "\n" + err
    traced = bool(TRACE_RE.search(both)) or "Unhandled exception" in both
    if rc != 0 and BUG_RE.search(both):
        return BUG
    if traced or rc < 0 or rc >= 128:
        return TRACE
    if rc != 0:
        return REFUSED if expect == "ok" else CLEAR
    warned = bool(WARN_RE.search(both))
    if expect == "error":
        return SILENT
    if expect == "warn" and not warned:
        return SILENT
    if check_result is not None and not check_result[0] and not warned:
        return SILENT
    return OK


def run_case(ctx, case):
    if case.runner is not None:
        return case.runner(case, ctx)
    argv = [a.replace("{dir}", case.dir) for a in case.argv]
    timeout = case.timeout or ctx.args.timeout
    rc, timed_out, secs, out, err = run_process(ctx, argv, case.dir, timeout, case.stdin)
    check_result = None
    if rc == 0 and not timed_out and case.check is not None:
        try:
            check_result = case.check(case.dir, out, err)
        except Exception as e:  # noqa: BLE001
            check_result = (False, "check failed: %r" % e)
    return result(ctx, case, argv, rc, timed_out, secs, out, err, check_result)


def result(ctx, case, argv, rc, timed_out, secs, out, err, check_result, cls=None):
    cls = cls or classify(case.expect, rc, timed_out, out, err, check_result)
    errs = nonempty_lines(err)
    outs = nonempty_lines(out)
    hint = next((l.strip() for l in outs if re.search(r"ERROR|FAIL|error", l)), outs[-1].strip() if outs else "")
    return {
        "surface": case.surface,
        "case": case.name,
        "command": shlex.join(["spiking"] + argv),
        "expect": case.expect,
        "exit_code": None if timed_out else rc,
        "seconds": round(secs, 2),
        "classification": cls,
        "stderr_first": errs[0].strip()[:400] if errs else "",
        "stderr_lines": len(errs),
        "stdout_hint": hint[:300],
        "detail": (check_result[1] if check_result else "") or "",
    }


# ----------------------------------------------------------------------------------------------------------------
# Base inputs


def make_data(ctx):
    src = ctx.args.fashion
    os.makedirs(ctx.data, exist_ok=True)
    base = {}
    for prefix, n in (("train", ctx.args.train_n), ("t10k", ctx.args.test_n)):
        def load(name):
            for cand in (os.path.join(src, name + ".gz"), os.path.join(src, name)):
                if os.path.exists(cand):
                    with (gzip.open(cand) if cand.endswith(".gz") else open(cand, "rb")) as f:
                        return f.read()
            sys.exit("survey: no %s in %s (--fashion DIR)" % (name, src))
        im = load(prefix + "-images-idx3-ubyte")
        lb = load(prefix + "-labels-idx1-ubyte")
        base[prefix + "_images"] = im[16:16 + n * 784]
        base[prefix + "_labels"] = lb[8:8 + n]
        with open(os.path.join(ctx.data, prefix + "-images-idx3-ubyte"), "wb") as f:
            f.write(idx(0x803, [n, 28, 28], base[prefix + "_images"]))
        with open(os.path.join(ctx.data, prefix + "-labels-idx1-ubyte"), "wb") as f:
            f.write(idx(0x801, [n], base[prefix + "_labels"]))
    ctx.pixels = {"train_images": base["train_images"], "test_images": base["t10k_images"]}
    ctx.labels = {"train_labels": base["train_labels"], "test_labels": base["t10k_labels"]}
    test_only = os.path.join(ctx.work, "data-test-only")
    os.makedirs(test_only, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(os.path.join(ctx.data, name), test_only)
    ctx.data_test_only = test_only


def train_base(ctx, name, extra):
    path = os.path.join(ctx.work, name + ".safetensors")
    defaults = [("--data", ctx.data), ("--threads", "1"), ("--limit", str(ctx.args.train_n)), ("--test-limit", str(ctx.args.test_n))]
    argv = ["train"] + [w for k, v in defaults if k not in extra for w in (k, v)] + ["--out", path] + extra
    t0 = time.monotonic()
    rc, to, secs, out, err = run_process(ctx, argv, ctx.work, 300)
    if rc != 0 or not os.path.isfile(path):
        sys.exit("survey: could not make the base checkpoint %s (exit %s):\n%s" % (name, rc, err[-2000:]))
    log("base checkpoint %s: %.1f s" % (name, time.monotonic() - t0))
    return path, secs


def log(msg):
    with LOG_LOCK:
        print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# Surface 1: safetensors via eval --checkpoint


def safetensors_cases(ctx):
    seed = ctx.args.seed
    mlp = open(ctx.ckpt["mlp"], "rb").read()
    cnn = open(ctx.ckpt["cnn"], "rb").read()
    header, data = st_split(mlp)
    n = struct.unpack("<Q", mlp[:8])[0]
    cn = struct.unpack("<Q", cnn[:8])[0]
    meta, tensors = st_tensors(mlp)
    cases = []
    evalv = ["eval", "--checkpoint", "{dir}/ckpt.safetensors", "--data", ctx.data, "--threads", "1"]

    def writer(content):
        def setup(d):
            with open(os.path.join(d, "ckpt.safetensors"), "wb") as f:
                f.write(content)
        return setup

    def add(name, content, expect="error", extra=(), check=None, argv=None, setup=None):
        cases.append(Case("safetensors", name, (argv or evalv) + list(extra), expect,
                          setup=setup or writer(content), check=check))

    def hdr(mut):
        h = json.loads(json.dumps(header))
        mut(h)
        return st_join(h, data)

    def evaluated(d, o, e):
        good = re.search(r"test\s+accuracy", o) is not None
        return good, "" if good else "no accuracy printed"

    # controls
    add("control_valid_mlp", mlp, "ok", check=evaluated)
    add("control_valid_cnn", cnn, "ok", check=evaluated)

    # truncations
    for cut in sorted({0, 1, 4, 7, 8, 9, 20, 8 + n // 2, 8 + n - 10, 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 4, 8 + n + 1000,
                       len(mlp) // 2, len(mlp) - 4, len(mlp) - 1}):
        add("truncated_mlp_at_%d" % cut, mlp[:cut])
    for cut in sorted({8 + cn // 2, 8 + cn, len(cnn) // 2, len(cnn) - 1}):
        add("truncated_cnn_at_%d" % cut, cnn[:cut])

    # header length field
    body = mlp[8:]
    for label, hl in [("huge_2e63", 2 ** 63), ("max_u64", 2 ** 64 - 1), ("100M_plus_1", 100_000_001), ("2GiB", 2 ** 31),
                      ("zero", 0), ("one", 1), ("minus_1", n - 1), ("plus_1", n + 1), ("covers_all", len(mlp) - 8),
                      ("beyond_end", len(mlp))]:
        add("header_length_" + label, struct.pack("<Q", hl) + body)
    unpadded = json.dumps(header, separators=(",", ":")).encode()
    add("header_length_odd_unpadded_valid", st_join(unpadded, data), "ok", check=evaluated)

    # header not JSON / not an object
    r = seeded(seed, "header_random")
    jh = json.dumps(header, separators=(",", ":")).encode()
    for label, h in [("random_bytes", bytes(r.randrange(256) for _ in range(n))), ("array", b"[]"), ("null", b"null"),
                     ("number", b"123"), ("string", b'"header"'), ("trailing_garbage", jh + b" x"), ("two_objects", jh + jh),
                     ("not_utf8", jh.replace(b'"1.bias"', b'"1.b\xffas"')), ("comment", b"/* c */" + jh),
                     ("bom", b"\xef\xbb\xbf" + jh), ("nul_padding", jh + b"\0" * (-len(jh) % 8 or 8)),
                     ("trailing_comma", jh[:-1] + b",}"), ("single_quotes", jh.replace(b'"', b"'")),
                     ("unterminated", jh[:-1]), ("empty_object_with_data", b"{}"), ("whitespace_only", b"        ")]:
        add("header_" + label, st_join(h, data))
    add("header_empty_object_no_data", st_join(b"{}      ", b""))

    # wrong JSON types / values in an entry (3.bias unless said)
    def entry(key, value, tensor="3.bias"):
        def m(h):
            if key is None:
                h[tensor] = value
            elif value is KeyError:
                del h[tensor][key]
            else:
                h[tensor][key] = value
        return m
    for label, key, value in [
        ("entry_string", None, "F32"), ("entry_number", None, 3), ("entry_array", None, [1, 2]), ("entry_null", None, None),
        ("dtype_number", "dtype", 32), ("dtype_null", "dtype", None), ("dtype_lowercase", "dtype", "f32"),
        ("dtype_unknown_F8", "dtype", "F8"), ("dtype_empty", "dtype", ""), ("dtype_complex", "dtype", "C64"),
        ("dtype_trailing_space", "dtype", "F32 "), ("shape_string", "shape", "10"), ("shape_float", "shape", [10.5]),
        ("shape_nested", "shape", [[10]]), ("shape_negative", "shape", [-10]), ("shape_null", "shape", None),
        ("shape_bool", "shape", [True]), ("offsets_three", "data_offsets", "three"), ("offsets_one", "data_offsets", "one"),
        ("offsets_empty", "data_offsets", []), ("offsets_strings", "data_offsets", "strings"),
        ("offsets_floats", "data_offsets", "floats"), ("offsets_negative", "data_offsets", "negative"),
        ("offsets_swapped", "data_offsets", "swapped"), ("offsets_huge_2e63", "data_offsets", "huge"),
        ("offsets_1e30", "data_offsets", "e30"), ("offsets_2e64", "data_offsets", "u64"),
        ("missing_dtype", "dtype", KeyError), ("missing_shape", "shape", KeyError), ("missing_offsets", "data_offsets", KeyError)]:
        if key == "data_offsets" and isinstance(value, str):
            b, e = header["3.bias"]["data_offsets"]
            value = {"three": [b, e, e], "one": [b], "strings": [str(b), str(e)], "floats": [float(b), float(e)],
                     "negative": [-b, e], "swapped": [e, b], "huge": [b, 2 ** 63 - 1], "e30": [b, 1e30], "u64": [b, 2 ** 64]}[value]
        add(label, hdr(entry(key, value)))
    add("entry_extra_key", hdr(entry("note", "extra")), "any")

    # shapes and offsets
    def t_replace(name, new_shape=None, new_dtype=None, new_raw=None, meta_=meta, drop=False):
        out = []
        for nm, dt, sh, raw in tensors:
            if nm == name:
                if drop:
                    continue
                out.append((nm, new_dtype or dt, sh if new_shape is None else new_shape, raw if new_raw is None else new_raw))
            else:
                out.append((nm, dt, sh, raw))
        return st_build(out, meta_)
    add("shape_product_overflow", hdr(entry("shape", [65536, 65536, 10], "3.weight")))
    add("shape_disagrees_with_bytes", hdr(entry("shape", [11])))
    add("shape_scalar_for_vector", hdr(entry("shape", [])))
    add("shape_zero_dim", t_replace("3.weight", [0, 512], new_raw=b""))
    add("shape_transposed_same_bytes", t_replace("1.weight", [784, 512]))
    add("shape_rank3_same_bytes", t_replace("1.weight", [512, 28, 28]))
    add("shape_other_split_same_bytes", t_replace("3.weight", [20, 256]))

    def shifted(delta_b, delta_e, extra_data=b"", prefix=b""):
        def m(h):
            for k, v in h.items():
                if k == "__metadata__":
                    continue
                if prefix:
                    v["data_offsets"] = [v["data_offsets"][0] + len(prefix), v["data_offsets"][1] + len(prefix)]
            b, e = h["3.bias"]["data_offsets"]
            h["3.bias"]["data_offsets"] = [b + delta_b, e + delta_e]
        h = json.loads(json.dumps(header))
        m(h)
        return st_join(h, prefix + data + extra_data)
    add("offsets_overlap", shifted(-4, -4))
    add("offsets_gap", shifted(4, 4, b"\0" * 4))
    add("offsets_not_from_zero", shifted(0, 0, prefix=b"\0" * 8))
    def past_end(h):
        h["3.bias"]["shape"] = [11]
        h["3.bias"]["data_offsets"][1] += 4
    add("offsets_past_end", hdr(past_end))
    add("data_trailing_bytes", st_join(header, data + b"\0" * 4))
    rev = {"__metadata__": header["__metadata__"]}
    for k in reversed([k for k in header if k != "__metadata__"]):
        rev[k] = header[k]
    add("header_keys_reordered_valid", st_join(rev, data), "ok", check=evaluated)
    add("data_in_reverse_order_valid", st_build(list(reversed(tensors)), meta), "ok", check=evaluated)

    # duplicate names (textual JSON)
    jb = json.dumps(header, separators=(",", ":"))
    bias = '"3.bias":' + json.dumps(header["3.bias"], separators=(",", ":"))
    add("duplicate_tensor_name", st_join(jb[:-1].encode() + b"," + bias.encode() + b"}", data))
    add("duplicate_metadata_key", st_join(jb.replace('"model":"mlp"', '"model":"mlp","model":"cnn"').encode(), data))
    add("duplicate_metadata_object", st_join(jb.replace('{"__metadata__"', '{"__metadata__":{},"__metadata__"', 1).encode(), data))
    add("duplicate_key_in_entry", st_join(jb.replace('"3.bias":{"dtype":"F32"', '"3.bias":{"dtype":"F32","dtype":"F32"').encode(), data), "any")

    # metadata
    def meta_set(v):
        def m(h):
            h["__metadata__"] = v
        return m
    for label, v in [("string", "mlp"), ("number", 8), ("array", ["mlp"]), ("null", None), ("value_number", {"T": 8}),
                     ("value_object", {"T": {"v": 8}}), ("value_null", {"T": None}), ("value_array", {"model": ["mlp"]})]:
        add("metadata_" + label, hdr(meta_set(v)))
    for label, v in [("T_abc", {"model": "mlp", "T": "abc"}), ("T_zero", {"model": "mlp", "T": "0"}),
                     ("T_negative", {"model": "mlp", "T": "-1"}), ("T_huge", {"model": "mlp", "T": "99999999999"}),
                     ("T_NaN", {"model": "mlp", "T": "NaN"}), ("model_says_cnn", {"model": "cnn", "T": "8"}),
                     ("model_bogus", {"model": "resnet", "T": "8"})]:
        add("metadata_" + label, hdr(meta_set(v)), "warn")
    add("metadata_absent_valid", hdr(lambda h: h.pop("__metadata__")), "ok", check=evaluated)

    # deep nesting
    add("deep_nesting_unknown_key_100", hdr(entry("x", json.loads("[" * 100 + "]" * 100))))
    add("deep_nesting_metadata_10000", st_join(jb.replace('"T":"8"', '"T":"8","deep":' + "[" * 10000 + "]" * 10000).encode(), data))
    add("deep_nesting_shape", hdr(entry("shape", json.loads("[" * 50 + "10" + "]" * 50))))

    # valid safetensors, wrong for the model
    renamed = [("fc1.weight" if nm == "1.weight" else nm, dt, sh, raw) for nm, dt, sh, raw in tensors]
    add("model_renamed_tensor", st_build(renamed, meta))
    add("model_missing_tensor", t_replace("3.bias", drop=True))
    add("model_extra_tensor", st_build(tensors + [("5.weight", "F32", [10], b"\0" * 40)], meta))
    def conv(dtype):
        out = []
        for nm, dt, sh, raw in tensors:
            a = f32(raw)
            if dtype == "F64":
                raw = struct.pack("<%dd" % len(a), *a)
            elif dtype == "F16":
                raw = struct.pack("<%de" % len(a), *[max(-65504.0, min(65504.0, x)) for x in a])
            elif dtype == "BF16":
                raw = b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", x))[0])[2:] for x in a)
            elif dtype == "I64":
                raw = struct.pack("<%dq" % len(a), *[int(x) for x in a])
            out.append((nm, dtype, sh, raw))
        return st_build(out, meta)
    add("dtype_F64_weights", conv("F64"), "ok", check=evaluated)
    add("dtype_F16_weights", conv("F16"), "ok", check=evaluated)
    add("dtype_BF16_weights", conv("BF16"), "ok", check=evaluated)
    add("dtype_I64_weights", conv("I64"))
    b_raw = dict((nm, raw) for nm, dt, sh, raw in tensors)["3.bias"]
    add("dtype_I32_bias", t_replace("3.bias", new_dtype="I32", new_raw=b_raw))
    add("dtype_U8_bias", t_replace("3.bias", [10], new_dtype="U8", new_raw=b"\1" * 10))
    add("cnn_checkpoint_as_mlp", cnn, extra=["--model", "mlp"])
    add("mlp_checkpoint_as_cnn", mlp, extra=["--model", "cnn"])
    add("spikformer_checkpoint", open(ctx.ckpt["spikformer"], "rb").read(), "any")
    add("fake_spikformer_names", st_build([("patch_embed.proj_conv.weight", "F32", [2], b"\0" * 8)], {"model": "spikformer"}))
    add("only_metadata_no_tensors", st_join({"__metadata__": meta}, b""))

    # non-finite and extreme weights
    def poke(name, fn):
        out = []
        for nm, dt, sh, raw in tensors:
            if nm == name:
                a = f32(raw)
                fn(a)
                raw = a.tobytes()
            out.append((nm, dt, sh, raw))
        return st_build(out, meta)
    nan, inf = float("nan"), float("inf")
    def fill(v):
        def f(a):
            for i in range(len(a)):
                a[i] = v
        return f
    def one(v):
        def f(a):
            a[0] = v
        return f
    add("nan_all_first_weight", poke("1.weight", fill(nan)), "warn")
    add("nan_one_bias", poke("3.bias", one(nan)), "warn")
    add("inf_one_weight", poke("3.weight", one(inf)), "warn")
    add("neg_inf_bias", poke("1.bias", fill(-inf)), "warn")
    add("huge_finite_3e38", poke("3.weight", fill(3e38)), "any")
    add("denormal_weights", poke("3.weight", fill(1e-42)), "ok", check=evaluated)

    # stored T
    has_t2 = lambda d, o, e: ("T=2," in o, "" if "T=2," in o else "evaluated at another T than the stored T=2")
    t2 = open(ctx.ckpt["mlp_t2"], "rb").read()
    add("stored_T2_eval_default", t2, "ok", check=has_t2)
    add("stored_T2_eval_T8", t2, "warn", extra=["--timesteps", "8"])
    add("stored_T8_eval_T2", mlp, "warn", extra=["--timesteps", "2"])

    # junk
    for size in (1, 7, 8, 9, 16, 64, 1000, 4096, 100_000, 1 << 20):
        r = seeded(seed, "junk%d" % size)
        add("junk_%d_bytes" % size, bytes(r.randrange(256) for _ in range(size)))
    r = seeded(seed, "junk_small_header")
    add("junk_plausible_header_length", struct.pack("<Q", 16) + bytes(r.randrange(256) for _ in range(16)))
    add("text_file", open(os.path.join(REPO, "README.md"), "rb").read())
    add("gzip_of_checkpoint", gzip.compress(mlp, mtime=0))
    add("png_signature", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    add("idx_file_as_checkpoint", open(os.path.join(ctx.data, "t10k-labels-idx1-ubyte"), "rb").read())

    # not a regular file
    def mk(kind):
        def setup(d):
            p = os.path.join(d, "ckpt.safetensors")
            if kind == "dir":
                os.mkdir(p)
            elif kind == "fifo":
                os.mkfifo(p)
            elif kind == "loop":
                os.symlink(p, p)
            elif kind == "dirlink":
                os.symlink(d, p)
        return setup
    add("path_is_directory", None, setup=mk("dir"))
    add("path_missing", None, setup=mk("none"))
    add("path_fifo", None, setup=mk("fifo"))
    add("path_symlink_loop", None, setup=mk("loop"))
    add("path_symlink_to_directory", None, setup=mk("dirlink"))
    ev = lambda p: ["eval", "--checkpoint", p, "--data", ctx.data, "--threads", "1"]
    add("path_dev_zero", None, argv=ev("/dev/zero"), setup=mk("none"))
    add("path_dev_null", None, argv=ev("/dev/null"), setup=mk("none"))
    add("path_empty_string", None, argv=ev(""), setup=mk("none"))
    add("path_trailing_slash", mlp, argv=ev("{dir}/ckpt.safetensors/"))
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Surface 2: IDX data


def idx_cases(ctx):
    seed = ctx.args.seed
    tr, te = ctx.args.train_n, ctx.args.test_n
    P, L = ctx.pixels, ctx.labels
    valid = {
        "train_images": idx(0x803, [tr, 28, 28], P["train_images"]),
        "train_labels": idx(0x801, [tr], L["train_labels"]),
        "test_images": idx(0x803, [te, 28, 28], P["test_images"]),
        "test_labels": idx(0x801, [te], L["test_labels"]),
    }
    cases = []
    train = ["train", "--data", "{dir}/data", "--threads", "1", "--timesteps", "2", "--limit", str(tr), "--test-limit", str(te)]
    evalv = ["eval", "--checkpoint", ctx.ckpt["mlp"], "--data", "{dir}/data", "--threads", "1"]

    def add(name, which, content, expect="error", argv=None, gz=False, extra_files=None, remove=()):
        """which: file key to replace with content (bytes, or 'fifo' / 'dir' / 'missing' / 'link:TARGET')."""
        def setup(d):
            dd = os.path.join(d, "data")
            os.makedirs(dd)
            for key, blob in valid.items():
                if key == which or key in remove:
                    continue
                with open(os.path.join(dd, IDX_NAMES[key]), "wb") as f:
                    f.write(blob)
            if which is not None:
                p = os.path.join(dd, IDX_NAMES[which] + (".gz" if gz else ""))
                if content == "fifo":
                    os.mkfifo(p)
                elif content == "dir":
                    os.mkdir(p)
                elif content == "missing":
                    pass
                elif isinstance(content, str) and content.startswith("link:"):
                    os.symlink(content[5:], p)
                else:
                    with open(p, "wb") as f:
                        f.write(content)
            for name_, blob in (extra_files or {}).items():
                with open(os.path.join(dd, name_), "wb") as f:
                    f.write(blob)
        if argv is None:
            argv = evalv if which is not None and which.startswith("test") else train
        cases.append(Case("idx", name, argv, expect, setup=setup))

    add("control_valid_raw", None, None, "ok")
    add("control_valid_gzip", "train_images", gzip.compress(valid["train_images"], mtime=0), "ok", gz=True)
    add("control_eval_valid", "test_images", valid["test_images"], "ok")

    ti, tl = P["train_images"], L["train_labels"]
    # magic
    for label, magic in [("labels_magic_on_images", 0x801), ("float_type_0x0D", 0xD03), ("ffffffff", -1), ("zero", 0),
                         ("int32_type_0x0C", 0xC03), ("little_endian", 0x03080000)]:
        add("images_magic_" + label, "train_images", struct.pack(">i", magic) + valid["train_images"][4:])
    add("labels_magic_images", "train_labels", struct.pack(">i", 0x803) + valid["train_labels"][4:])
    add("test_labels_magic_bad", "test_labels", b"\0\0\x08\x02" + valid["test_labels"][4:])
    # dims
    add("images_4_dims", "train_images", idx(0x804, [tr, 28, 28, 1], ti))
    add("images_rows_zero", "train_images", idx(0x803, [tr, 0, 28], b""))
    add("images_cols_zero_count_zero", "train_images", idx(0x803, [0, 28, 0], b""), remove=())
    add("images_14x28_double_count", "train_images", idx(0x803, [2 * tr, 14, 28], ti))
    add("images_27x27_consistent", "train_images", idx(0x803, [tr, 27, 27], ti[:tr * 729]))
    add("images_count_negative", "train_images", idx(0x803, [-1, 28, 28], ti))
    add("images_dims_overflow", "train_images", idx(0x803, [2 ** 31 - 1, 2 ** 31 - 1, 28], ti))
    add("images_dims_just_under_2GiB", "train_images", idx(0x803, [2_700_000, 28, 28], ti))
    add("empty_dataset_zero_images", "train_images", idx(0x803, [0, 28, 28], b""),
        extra_files={IDX_NAMES["train_labels"]: idx(0x801, [0], b"")})
    add("empty_test_set", "test_images", idx(0x803, [0, 28, 28], b""),
        extra_files={IDX_NAMES["test_labels"]: idx(0x801, [0], b"")})
    add("labels_2_dims", "train_labels", idx(0x802, [tr, 1], tl))
    # truncated / trailing
    vi = valid["train_images"]
    for label, blob in [("empty_file", b""), ("3_bytes", vi[:3]), ("mid_header", vi[:10]), ("header_only", vi[:16]),
                        ("half_payload", vi[:16 + len(ti) // 2]), ("minus_1", vi[:-1])]:
        add("images_truncated_" + label, "train_images", blob)
    add("labels_truncated_minus_1", "train_labels", valid["train_labels"][:-1])
    add("test_images_truncated", "test_images", valid["test_images"][:-100])
    add("images_trailing_1", "train_images", vi + b"\0")
    add("images_trailing_1000", "train_images", vi + b"\0" * 1000)
    add("labels_trailing_1", "train_labels", valid["train_labels"] + b"\0")
    # gzip
    gzi = gzip.compress(vi, mtime=0)
    r = seeded(seed, "gzip_corrupt")
    corrupt = bytearray(gzi)
    for _ in range(16):
        corrupt[r.randrange(20, len(corrupt) - 20)] ^= 0xFF
    add("gzip_corrupt_middle", "train_images", bytes(corrupt), gz=True)
    add("gzip_truncated_half", "train_images", gzi[:len(gzi) // 2], gz=True)
    add("gzip_truncated_no_trailer", "train_images", gzi[:-8], gz=True)
    add("gzip_only_magic", "train_images", b"\x1f\x8b", gz=True)
    add("gzip_trailing_garbage", "train_images", gzi + b"garbage!" * 4, gz=True)
    add("gzip_two_members_trailing_data", "train_images", gzi + gzip.compress(b"\0" * 100, mtime=0), gz=True)
    bad_crc = bytearray(gzi)
    bad_crc[-8] ^= 0xFF
    add("gzip_bad_crc", "train_images", bytes(bad_crc), gz=True)
    add("gzip_of_random_bytes", "train_images", gzip.compress(bytes(seeded(seed, "gzr").randrange(256) for _ in range(5000)), mtime=0), gz=True)
    add("gzip_declares_huge_dims", "train_images", gzip.compress(idx(0x803, [2_700_000, 28, 28], ti), mtime=0), gz=True)
    add("gzip_bomb_100MB_zeros", "train_images", gzip.compress(idx(0x803, [127_551, 28, 28], b"") + b"\0" * (127_551 * 784), 1, mtime=0), gz=True)
    add("gzip_bad_but_raw_good", "train_images", b"\x1f\x8b\x08\0garbage", gz=True,
        extra_files={IDX_NAMES["train_images"]: vi})
    # labels
    bad = bytearray(tl)
    bad[5] = 10
    add("label_10", "train_labels", idx(0x801, [tr], bad))
    bad[5] = 255
    add("label_255", "train_labels", idx(0x801, [tr], bad))
    badt = bytearray(L["test_labels"])
    badt[-1] = 10
    add("test_label_10", "test_labels", idx(0x801, [te], badt))
    add("count_mismatch_fewer_labels", "train_labels", idx(0x801, [tr - 1], tl[:-1]))
    add("count_mismatch_more_labels", "train_labels", idx(0x801, [tr + 1], tl + b"\0"))
    add("test_count_mismatch", "test_labels", idx(0x801, [te - 1], L["test_labels"][:-1]))
    # files
    for key in IDX_NAMES:
        add("missing_" + key, key, "missing")
    cases.append(Case("idx", "missing_folder", ["train", "--data", "{dir}/nope", "--threads", "1", "--limit", "8"], "error", setup=lambda d: None))
    cases.append(Case("idx", "data_is_a_file", ["train", "--data", ctx.ckpt["mlp"], "--threads", "1", "--limit", "8"], "error", setup=lambda d: None))
    cases.append(Case("idx", "data_empty_string", ["train", "--data", "", "--threads", "1", "--limit", "8"], "error", setup=lambda d: None))
    cases.append(Case("idx", "eval_test_only_folder", ["eval", "--checkpoint", ctx.ckpt["mlp"], "--data", ctx.data_test_only, "--threads", "1"],
                      "ok", setup=lambda d: None))
    add("images_fifo", "train_images", "fifo")
    add("test_labels_fifo", "test_labels", "fifo")
    add("images_is_directory", "train_images", "dir")
    add("images_link_dev_zero", "train_images", "link:/dev/zero")
    add("images_link_dev_null", "train_images", "link:/dev/null")
    add("images_dangling_link", "train_images", "link:/nonexistent/file")
    add("text_instead_of_idx", "train_images", b"hello, world\n" * 10)
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Surface 3: golden JSON via conformance


def first_array_key(case):
    for k, v in case.items():
        if isinstance(v, list) and v:
            return k
    return None


def last_array_key(case):
    keys = [k for k, v in case.items() if isinstance(v, list) and v]
    return keys[-1] if keys else None


def first_number_path(v):
    if isinstance(v, list):
        for i, x in enumerate(v):
            p = first_number_path(x)
            if p is not None:
                return [i] + p
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        return []
    return None


def set_path(v, path, value):
    for i in path[:-1]:
        v = v[i]
    v[path[-1]] = value


def golden_cases(ctx):
    files = []
    for g in ctx.golden:
        for name in sorted(os.listdir(g)):
            if name.endswith(".json"):
                files.append(os.path.join(g, name))
    cases = []

    def add(name, content, expect="error", fname=None, argv_extra=(), setup=None):
        def default_setup(d):
            gd = os.path.join(d, "golden")
            os.makedirs(gd)
            with open(os.path.join(gd, fname), "wb") as f:
                f.write(content)
        cases.append(Case("golden", name, ["conformance", "{dir}/golden"] + list(argv_extra), expect, setup=setup or default_setup))

    def mutated(doc, fn):
        d = json.loads(json.dumps(doc))
        fn(d)
        return json.dumps(d).encode()

    for path in files:
        base = os.path.basename(path)
        stem = base[:-5]
        raw = open(path, "rb").read()
        doc = json.loads(raw)
        c0 = doc["cases"][0]
        fk, lk = first_array_key(c0), last_array_key(c0)

        def m(label, fn, expect="error"):
            add("%s_%s" % (stem, label), mutated(doc, fn), expect, base)

        def c0set(key, value):
            def f(d):
                d["cases"][0][key] = value
            return f

        def c0del(key):
            def f(d):
                del d["cases"][0][key]
            return f

        def num(value):
            def f(d):
                p = first_number_path(d["cases"][0][fk])
                set_path(d["cases"][0][fk], p, value)
            return f

        add("%s_control_valid" % stem, raw, "ok", base)
        m("family_unknown", lambda d: d["meta"].__setitem__("family", d["meta"]["family"] + "_v2"))
        m("family_missing", lambda d: d["meta"].pop("family"))
        m("family_number", lambda d: d["meta"].__setitem__("family", 3))
        m("meta_not_object", lambda d: d.__setitem__("meta", "x"))
        m("no_cases", lambda d: d.pop("cases"))
        m("cases_object", lambda d: d.__setitem__("cases", {}))
        m("cases_empty", lambda d: d.__setitem__("cases", []))
        m("case_empty_object", lambda d: d.__setitem__("cases", [{}]))
        m("case_not_object", lambda d: d["cases"].__setitem__(0, 42))
        m("arrays_emptied", lambda d: d["cases"].__setitem__(0, {k: ([] if isinstance(v, list) else v) for k, v in d["cases"][0].items()}))
        m("input_missing_" + fk, c0del(fk))
        m("expected_missing_" + lk, c0del(lk))
        m("wrong_type_string", c0set(fk, "abc"))
        m("wrong_type_null", c0set(fk, None))
        m("wrong_shape_short", c0set(fk, c0[fk][:-1]))
        if isinstance(c0[fk][0], list):
            m("wrong_shape_ragged", lambda d: d["cases"][0][fk].__setitem__(0, d["cases"][0][fk][0][:-1]))
        m("nan_literal", num(float("nan")))
        m("infinity_literal", num(float("inf")))
        add("%s_huge_number_1e400" % stem, mutated(doc, num(12345.0)).replace(b"12345.0", b"1e400", 1), "error", base)
        add("%s_truncated_half" % stem, raw[:len(raw) // 2], "error", base)
        add("%s_bom" % stem, b"\xef\xbb\xbf" + raw, "any", base)
        add("%s_top_level_array" % stem, b"[" + raw + b"]", "error", base)
        add("%s_deeply_nested" % stem, mutated(doc, c0set(fk, 0)).replace(b'"%s": 0' % fk.encode(), b'"%s": ' % fk.encode() + b"[" * 5000 + b"0" + b"]" * 5000, 1), "error", base)
        add("%s_non_utf8" % stem, re.sub(rb'("id": ?")', lambda mm: mm.group(1) + b"\xff", raw, count=1), "error", base)
        m("id_number", c0set("id", 7), "any")
        add("%s_trailing_garbage" % stem, raw + b"}garbage", "error", base)
        for key in ("node", "surrogate", "module", "architecture"):
            if key in c0 and isinstance(c0[key], str):
                m("unknown_" + key, c0set(key, "Bogus" + key))
        if "params" in c0:
            m("params_wrong_type", c0set("params", "x"))

    g0 = ctx.golden[0]
    extra = [
        ("family_typo_flag", ["conformance", g0, "--family", "neuron"], "error"),
        ("family_empty_flag", ["conformance", g0, "--family", ""], "error"),
        ("family_flag_without_value", ["conformance", g0, "--family"], "error"),
        ("file_not_found", ["conformance", g0, "--file", "nope.json"], "error"),
        ("file_path_traversal", ["conformance", g0, "--file", "../golden-more/neurons_more.json"], "any"),
        ("file_flag_without_value", ["conformance", g0, "--file"], "error"),
        ("dir_missing", ["conformance", "{dir}/nope"], "error"),
        ("dir_is_a_file", ["conformance", os.path.join(g0, "neurons.json")], "error"),
        ("no_dir", ["conformance"], "error"),
        ("two_dirs", ["conformance", g0, g0], "error"),
    ]
    for name, argv, expect in extra:
        cases.append(Case("golden", name, argv, expect, setup=lambda d: None))
    for g in ctx.golden:
        cases.append(Case("golden", "control_real_dir_" + os.path.basename(g), ["conformance", g], "ok", setup=lambda d: None))

    def special(kind):
        def setup(d):
            gd = os.path.join(d, "golden")
            os.makedirs(gd)
            if kind == "fifo":
                os.mkfifo(os.path.join(gd, "neurons.json"))
            elif kind == "dir_named_json":
                os.mkdir(os.path.join(gd, "neurons.json"))
            elif kind == "loop":
                os.symlink(os.path.join(gd, "neurons.json"), os.path.join(gd, "neurons.json"))
            elif kind == "empty_file":
                open(os.path.join(gd, "neurons.json"), "wb").close()
            elif kind == "no_json":
                open(os.path.join(gd, "README.md"), "w").write("no json here\n")
            elif kind == "dev_zero":
                os.symlink("/dev/zero", os.path.join(gd, "neurons.json"))
        return setup
    for kind in ("fifo", "dir_named_json", "loop", "empty_file", "no_json", "dev_zero"):
        add("special_" + kind, None, "error", setup=special(kind))
    add("empty_dir", None, "error", setup=lambda d: os.makedirs(os.path.join(d, "golden")))
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Surface 4: CLI arguments


def cli_cases(ctx):
    D, M = ctx.data, ctx.ckpt["mlp"]
    cases = []
    TRAIN = [("data", D), ("limit", "256"), ("test-limit", "128"), ("threads", "1"), ("timesteps", "2")]
    EVAL = [("checkpoint", M), ("data", D), ("threads", "1")]
    BK = [("threads", "1"), ("shapes", "16x16x16"), ("rates", "0.1"), ("reps", "1"), ("min-time", "0"), ("warmup", "0")]
    BN = [("threads", "1"), ("neuron", "LIF"), ("reps", "1"), ("min-time", "0"), ("max-time", "0.01"), ("warmup", "0")]
    BA = [("threads", "1"), ("shapes", "2,2,4,8,2"), ("reps", "1"), ("min-time", "0"), ("warmup", "0")]

    def build(words, base, over=None, tail=()):
        over = dict(over or {})
        argv = list(words)
        for k, v in base:
            if k in over:
                v = over.pop(k)
                if v is None:
                    continue
            argv += ["--" + k, v]
        for k, v in over.items():
            argv += ["--" + k] + ([] if v is None else [v])
        return argv + list(tail)

    def add(name, argv, expect="error", check=None, setup=None, timeout=None):
        cases.append(Case("cli", name, argv, expect, setup=setup or (lambda d: None), check=check, timeout=timeout))

    file_made = lambda rel: (lambda d, o, e: (os.path.exists(os.path.join(d, rel)), "%s not written" % rel))

    # controls
    add("control_help", ["help"], "ok")
    add("control_info", ["info"], "ok")
    add("control_train", build(["train"], TRAIN), "ok")
    add("control_bench_kernels", build(["bench", "kernels"], BK), "ok")
    # commands
    add("no_arguments", [], "error")
    add("unknown_command", ["trian"], "error")
    add("command_uppercase", ["TRAIN"], "error")
    add("empty_command", [""], "error")
    add("help_with_stray_word", ["help", "me"], "any")
    add("bench_no_suite", build(["bench"], [("threads", "1")]), "error")
    add("bench_unknown_suite", build(["bench", "kernel"], BK), "error")
    add("gpu_selftest_no_cuda", ["gpu-selftest"], "any")
    add("gpu_selftest_device_index_negative", ["gpu-selftest", "--device-index", "-1"], "error")
    add("gpu_selftest_device_index_abc", ["gpu-selftest", "--device-index", "abc"], "error")
    add("info_unknown_option", ["info", "--threads", "1"], "error")
    add("info_stray_word", ["info", "now"], "error")
    # train: numbers
    for opt, vals in [("epochs", ["0", "-1", "abc", "1.5", "99999999999", "NaN"]),
                      ("batch", ["0", "-1", "99999999999"]),
                      ("timesteps", ["0", "-1", "2147483647"]),
                      ("lr", ["NaN", "-1", "Infinity", "inf", "1,5", "abc", "0x10"]),
                      ("seed", ["-1", "99999999999"]),
                      ("threads", ["0", "-1"]),
                      ("limit", ["-1", "99999999999"]),
                      ("test-limit", ["-1"])]:
        for v in vals:
            add("train_%s_%s" % (opt, v), build(["train"], TRAIN, {opt: v}),
                "any" if (opt, v) in (("seed", "99999999999"),) else "error")
    add("train_batch_huge_2147483647", build(["train"], TRAIN, {"batch": "2147483647"}), "any")
    add("train_threads_100000", build(["train"], TRAIN, {"threads": "100000"}), "any")
    add("train_lr_zero", build(["train"], TRAIN, {"lr": "0"}), "any")
    add("train_model_bogus", build(["train"], TRAIN, {"model": "resnet"}))
    add("train_model_empty", build(["train"], TRAIN, {"model": ""}))
    add("train_optimizer_bogus", build(["train"], TRAIN, {"optimizer": "adagrad"}))
    add("train_schedule_bogus", build(["train"], TRAIN, {"schedule": "linear"}))
    add("train_device_bogus", build(["train"], TRAIN, {"device": "tpu"}))
    add("train_device_cuda_absent", build(["train"], TRAIN, {"device": "cuda"}), "error")
    add("train_device_cuda_negative", build(["train"], TRAIN, {"device": "cuda:-1"}))
    add("train_device_cuda_99", build(["train"], TRAIN, {"device": "cuda:99"}))
    add("train_device_cpu_index", build(["train"], TRAIN, {"device": "cpu:3"}), "any")
    # train: outputs
    add("train_out_missing_folder", build(["train"], TRAIN, {"out": "{dir}/nope/w.safetensors"}))
    add("train_out_is_directory", build(["train"], TRAIN, {"out": "{dir}"}))
    add("train_out_unwritable", build(["train"], TRAIN, {"out": "/proc/nope.safetensors"}))
    add("train_out_without_value", build(["train"], TRAIN, {"out": None}))
    add("train_json_missing_folder", build(["train"], TRAIN, {"json": "{dir}/nope/m.json"}))
    add("train_json_is_directory", build(["train"], TRAIN, {"json": "{dir}"}))
    add("train_json_without_value", build(["train"], TRAIN, {"json": None}))
    add("train_plot_onto_file", build(["train"], TRAIN, {"plot": "{dir}/file"}),
        setup=lambda d: open(os.path.join(d, "file"), "w").close())
    add("train_plot_unwritable", build(["train"], TRAIN, {"plot": "/proc/plots"}))
    add("train_plot_nested_new_folder", build(["train"], TRAIN, {"plot": "{dir}/a/b"}), "ok", check=file_made("a/b/training.png"))
    add("train_out_valid", build(["train"], TRAIN, {"out": "{dir}/w.safetensors"}), "ok", check=file_made("w.safetensors"))
    # train: syntax
    add("train_unknown_option", build(["train"], TRAIN, {"learning-rate": "0.1"}))
    add("train_option_twice", build(["train"], TRAIN, tail=["--epochs", "1", "--epochs", "2"]))
    add("train_stray_word", build(["train"], TRAIN, tail=["extra"]))
    add("train_stray_word_after_value", build(["train"], TRAIN, tail=["--epochs", "1", "2"]))
    add("train_equals_empty", build(["train"], TRAIN, tail=["--lr="]))
    add("train_equals_form_valid", build(["train"], TRAIN, tail=["--lr=0.001"]), "ok")
    add("train_double_dash_alone", build(["train"], TRAIN, tail=["--"]))
    add("train_single_dash_option", build(["train"], TRAIN, tail=["-lr", "0.1"]))
    add("train_negative_value_as_next_option", build(["train"], TRAIN, {"lr": "--epochs"}))
    # eval
    add("eval_no_checkpoint", build(["eval"], EVAL, {"checkpoint": None}))
    add("eval_checkpoint_without_value", build(["eval"], EVAL, {"checkpoint": None}, tail=["--checkpoint"]))
    add("eval_model_bogus", build(["eval"], EVAL, {"model": "vgg"}))
    for opt, v in [("timesteps", "0"), ("timesteps", "-1"), ("timesteps", "abc"), ("timesteps", "NaN"), ("batch", "0"),
                   ("seed", "-1"), ("threads", "0"), ("test-limit", "-1"), ("timesteps", "99999999999")]:
        add("eval_%s_%s" % (opt, v), build(["eval"], EVAL, {opt: v}))
    add("eval_json_missing_folder", build(["eval"], EVAL, {"json": "{dir}/nope/m.json"}))
    add("eval_json_is_directory", build(["eval"], EVAL, {"json": "{dir}"}))
    add("eval_stray_word", build(["eval"], EVAL, tail=["extra"]))
    add("eval_unknown_option", build(["eval"], EVAL, {"epochs": "1"}))
    add("eval_device_option", build(["eval"], EVAL, {"device": "cpu"}), "any")
    # bench kernels
    for v in ["", "1x2", "0x1x1", "axbxc", "-1x2x3", "1x2x3x4", "65536x65536x1", "16x16x16,"]:
        add("bench_kernels_shapes_%s" % (v or "empty"), build(["bench", "kernels"], BK, {"shapes": v}),
            "any" if v == "16x16x16," else "error", timeout=None)
    for v in ["NaN", "1.5", "-0.1", "", "0.1;0.2", "1,5"]:
        add("bench_kernels_rates_%s" % (v or "empty"), build(["bench", "kernels"], BK, {"rates": v}),
            "any" if v == "1,5" else "error")
    add("bench_kernels_min_max_time_NaN", build(["bench", "kernels"], BK, {"min-time": "NaN", "max-time": "NaN"}))
    add("bench_kernels_min_time_NaN", build(["bench", "kernels"], BK, {"min-time": "NaN"}))
    add("bench_kernels_max_time_negative", build(["bench", "kernels"], BK, {"max-time": "-1"}))
    add("bench_kernels_min_time_inf", build(["bench", "kernels"], BK, {"min-time": "Infinity", "max-time": "0.01"}), "error")
    add("bench_kernels_reps_0", build(["bench", "kernels"], BK, {"reps": "0"}))
    add("bench_kernels_reps_negative", build(["bench", "kernels"], BK, {"reps": "-1"}))
    add("bench_kernels_warmup_negative", build(["bench", "kernels"], BK, {"warmup": "-1"}))
    add("bench_kernels_impl_bogus", build(["bench", "kernels"], BK, {"impl": "slow"}))
    add("bench_kernels_threads_0", build(["bench", "kernels"], BK, {"threads": "0"}))
    add("bench_kernels_json_is_directory", build(["bench", "kernels"], BK, {"json": "{dir}"}))
    add("bench_kernels_json_missing_folder", build(["bench", "kernels"], BK, {"json": "{dir}/nope/k.json"}))
    add("bench_kernels_stray_word", build(["bench", "kernels"], BK, tail=["now"]))
    # bench neurons
    add("bench_neurons_neuron_bogus", build(["bench", "neurons"], BN, {"neuron": "Bogus"}))
    add("bench_neurons_min_max_time_NaN", build(["bench", "neurons"], BN, {"min-time": "NaN", "max-time": "NaN"}))
    add("bench_neurons_reps_0", build(["bench", "neurons"], BN, {"reps": "0"}))
    add("bench_neurons_shapes_option", build(["bench", "neurons"], BN, {"shapes": "1x1x1"}))
    # bench attention
    for v in ["NaN", "2", "-1"]:
        add("bench_attention_rate_%s" % v, build(["bench", "attention"], BA, {"rate": v}))
    for v in ["1,2,3", "2,2,4,8,3", "0,1,1,1,1", "a,b,c,d,e", ""]:
        add("bench_attention_shapes_%s" % (v or "empty"), build(["bench", "attention"], BA, {"shapes": v}))
    add("bench_attention_max_time_NaN", build(["bench", "attention"], BA, {"min-time": "NaN", "max-time": "NaN"}))
    # conformance flags
    add("conformance_unknown_option", ["conformance", ctx.golden[0], "--families", "neurons"])
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Surface 5: training stability and kills during --out


def training_cases(ctx):
    D = ctx.data
    cases = []
    tiny = {"mlp": ["--limit", "256", "--test-limit", "128"], "cnn": ["--limit", "256", "--test-limit", "128"],
            "spikformer": ["--limit", "64", "--test-limit", "32", "--batch", "32"], "sdt": ["--limit", "64", "--test-limit", "32", "--batch", "32"]}

    def check_outputs(d, out, err):
        problems = []
        p = os.path.join(d, "w.safetensors")
        if os.path.exists(p):
            s = checkpoint_state(p)
            if s != "valid":
                problems.append("checkpoint " + s)
        j = os.path.join(d, "m.json")
        if os.path.exists(j):
            try:
                for line in open(j):
                    json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError as e:
                problems.append("json not strict JSON: %s" % e)
        if re.search(r"\bNaN\b", out):
            problems.append("NaN in output")
        return (not problems, "; ".join(problems))

    def add(model, lr, outputs, expect="warn", optimizer=None):
        name = "%s_lr_%s_%s" % (model, lr, "_".join(outputs) or "none") + ("_" + optimizer if optimizer else "")
        argv = ["train", "--model", model, "--data", D, "--threads", "1", "--lr", lr] + tiny[model]
        if optimizer:
            argv += ["--optimizer", optimizer]
        for o in outputs:
            argv += {"out": ["--out", "{dir}/w.safetensors"], "json": ["--json", "{dir}/m.json"], "plot": ["--plot", "{dir}/plots"]}[o]
        cases.append(Case("training", name, argv, expect, timeout=ctx.args.train_timeout, setup=lambda d: None, check=check_outputs))

    add("mlp", "1e300", ["out"])
    add("mlp", "1e6", ["out"])
    add("mlp", "Infinity", ["out"], "error")
    add("mlp", "1e38", ["json"])
    add("mlp", "1e300", ["out"], optimizer="sgd")
    add("mlp", "1e300", ["plot"])
    add("cnn", "1e300", ["out"])
    add("cnn", "1e6", ["out"])
    add("cnn", "1e38", ["json"])
    add("spikformer", "1e300", ["json"])
    add("spikformer", "1e6", ["out"])
    add("spikformer", "1e38", ["out", "json"])
    add("sdt", "1e300", ["json"])

    # kill -9 during --out
    def kill_runner(model, mode, frac):
        def run(case, ctx_):
            d = case.dir
            target = os.path.join(d, "w.safetensors")
            shutil.copy(ctx_.ckpt[model], target)
            old = open(target, "rb").read()
            argv = ["train", "--model", model, "--data", D, "--threads", "1", "--seed", "7"] + tiny[model] + ["--out", target]
            p = subprocess.Popen(ctx_.spiking + argv, cwd=d, env=ctx_.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, start_new_session=True)
            t0 = time.monotonic()
            killed = False
            deadline = t0 + ctx_.args.train_timeout
            if mode == "tmp":
                while p.poll() is None and time.monotonic() < deadline:
                    if tmp_leftovers(d):
                        os.kill(p.pid, signal.SIGKILL)
                        killed = True
                        ctx_.tmp_seen_at[model] = time.monotonic() - t0
                        break
                    time.sleep(0.0002)
            else:
                # a fraction of the time at which the previous run of this model began its temporary file
                delay = ctx_.tmp_seen_at.get(model, ctx_.train_seconds[model]) * frac
                while p.poll() is None and time.monotonic() < t0 + delay:
                    time.sleep(0.001)
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGKILL)
                    killed = True
            if p.poll() is None and time.monotonic() >= deadline:
                os.killpg(p.pid, signal.SIGKILL)
            err = p.communicate()[1].decode("utf-8", "replace")
            secs = time.monotonic() - t0
            after = open(target, "rb").read() if os.path.isfile(target) else None
            state = "old" if after == old else checkpoint_state(target)
            left1 = tmp_leftovers(d)
            # the next successful write to the same path
            rc2, to2, _, _, err2 = run_process(ctx_, ["train", "--model", model, "--data", D, "--threads", "1"] + tiny[model] + ["--out", target], d, ctx_.args.train_timeout)
            left2 = tmp_leftovers(d)
            state2 = checkpoint_state(target)
            detail = "killed=%s after %.2f s (exit %s); checkpoint after kill: %s; tmp after kill: %d; next write exit %s, checkpoint %s, tmp left after it: %d" % (
                killed, secs, p.returncode, state, len(left1), rc2, state2, len(left2))
            if state not in ("old", "valid"):
                cls = SILENT
            elif to2 or rc2 != 0 or state2 != "valid":
                cls = classify("ok", rc2, to2, "", err2, None)
                if cls == OK:
                    cls = SILENT
            elif left2:
                cls = SILENT
            else:
                cls = OK
            return result(ctx_, case, argv, p.returncode, False, secs, "", err, (cls == OK, detail), cls=cls)
        return run

    ctx.tmp_seen_at = {}
    for model, mode, frac in [("mlp", "tmp", 0), ("mlp", "tmp", 1), ("cnn", "tmp", 0), ("mlp", "delay", 0.5), ("mlp", "delay", 0.9),
                              ("mlp", "delay", 0.98), ("mlp", "delay", 1.02), ("cnn", "delay", 0.9), ("cnn", "delay", 1.0)]:
        name = "kill9_%s_%s" % (model, "on_tmp_file" if mode == "tmp" else "at_%.2fx_time_to_write" % frac)
        if mode == "tmp" and frac:
            name += "_again"
        cases.append(Case("training", name, ["train", "--model", model, "--out", "w.safetensors", "(killed)"], "ok",
                          setup=lambda d: None, runner=kill_runner(model, mode, frac)))
    return cases


# ----------------------------------------------------------------------------------------------------------------
# Reporting


def table(results, title):
    cols = ["tried", CLEAR, "multi-line errors", TRACE, BUG, HANG, SILENT, OK, REFUSED]
    lines = ["| input surface | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    totals = dict((c, 0) for c in cols)
    for key, label in SURFACES:
        rs = [r for r in results if r["surface"] == key]
        row = {"tried": len(rs)}
        for o in OUTCOMES:
            row[o] = sum(1 for r in rs if r["classification"] == o)
        row["multi-line errors"] = sum(1 for r in rs if r["classification"] == CLEAR and r["stderr_lines"] > 1)
        for c in cols:
            totals[c] += row[c]
        lines.append("| %s | " % label + " | ".join(str(row[c]) for c in cols) + " |")
    lines.append("| **total** | " + " | ".join(str(totals[c]) for c in cols) + " |")
    return "\n".join(lines)


def normalise(line):
    line = re.sub(r"'[^']*'", "'…'", line)
    line = re.sub(r"\d+", "N", line)
    return line[:160]


def groups(results, cls, limit=25):
    counts = {}
    for r in results:
        if r["classification"] == cls:
            if cls in (SILENT, REFUSED):
                key = r["detail"] or ("zero exit, no warning; expected " + r["expect"] if cls == SILENT else r["stderr_first"] or r["stdout_hint"])
            else:
                key = r["stderr_first"] or r["stdout_hint"] or r["detail"]
            key = normalise(key)
            counts.setdefault(key, []).append(r["surface"] + "/" + r["case"])
    out = []
    for key, names in sorted(counts.items(), key=lambda kv: -len(kv[1]))[:limit]:
        shown = names if cls in (SILENT, HANG, REFUSED) else names[:3]
        out.append("- %d × `%s`  (%s%s)" % (len(names), key.replace("`", "'"), "" if len(shown) == len(names) else "e.g. ", ", ".join(shown)))
    return "\n".join(out)


def report(results, args, seconds, spiking):
    md = ["# spiking bad-input survey", "",
          "`%s` — seed %d, %d cases, %s, timeout %d s (training %d s)." % (
              " ".join(spiking), args.seed, len(results), "%.0f s" % seconds if seconds is not None else "time not recorded",
              args.timeout, args.train_timeout), "",
          table(results, ""), "",
          "Columns: see scripts/bad-inputs/README.md. *multi-line errors* counts the clear errors whose stderr has more than one non-empty line.", ""]
    for cls in (TRACE, BUG, HANG, SILENT, REFUSED):
        g = groups(results, cls)
        if g:
            md += ["## %s (grouped by first stderr line)" % cls, "", g, ""]
    return "\n".join(md)


# ----------------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spiking", default="dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll",
                    help="how to run the CLI (relative paths: to the current folder, then the repository root)")
    ap.add_argument("--out", default=None, help="folder for table.md and cases.jsonl (default: print only)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--jobs", type=int, default=2, help="parallel cases (at most 2 on a shared machine)")
    ap.add_argument("--timeout", type=int, default=60, help="seconds before a case counts as a hang")
    ap.add_argument("--train-timeout", type=int, default=180, help="the same for training cases")
    ap.add_argument("--fashion", default=os.environ.get("FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist")
    ap.add_argument("--golden", nargs="+", default=[os.path.join(REPO, "..", "shared", "golden"), os.path.join(REPO, "..", "shared", "golden-more")])
    ap.add_argument("--train-n", type=int, default=256)
    ap.add_argument("--test-n", type=int, default=128)
    ap.add_argument("--surface", action="append", choices=[s for s, _ in SURFACES], help="run only these surfaces")
    ap.add_argument("--match", default=None, help="run only cases whose name matches this regex")
    ap.add_argument("--work", default=None, help="scratch folder (default: a new temporary one, removed afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--report", metavar="JSONL", help="only re-render the table of an earlier run's cases.jsonl")
    args = ap.parse_args()

    if args.report:
        results = [json.loads(l) for l in open(args.report) if l.strip()]
        print(report(results, args, None, shlex.split(args.spiking)))
        return

    t_start = time.monotonic()
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="spiking-bad-inputs-")
    os.makedirs(work, exist_ok=True)
    ctx = Context(args, work)
    log("survey: %s, scratch %s" % (" ".join(ctx.spiking), work))
    try:
        make_data(ctx)
        ctx.ckpt, ctx.train_seconds = {}, {}
        ctx.ckpt["mlp"], ctx.train_seconds["mlp"] = train_base(ctx, "mlp", [])
        ctx.ckpt["mlp_t2"], _ = train_base(ctx, "mlp_t2", ["--timesteps", "2"])
        ctx.ckpt["cnn"], ctx.train_seconds["cnn"] = train_base(ctx, "cnn", ["--model", "cnn"])
        ctx.ckpt["spikformer"], _ = train_base(ctx, "spikformer", ["--model", "spikformer", "--limit", "64", "--test-limit", "32", "--batch", "32"])

        builders = {"safetensors": safetensors_cases, "idx": idx_cases, "golden": golden_cases, "cli": cli_cases, "training": training_cases}
        cases = []
        for key, _ in SURFACES:
            if args.surface and key not in args.surface:
                continue
            cases += builders[key](ctx)
        if args.match:
            cases = [c for c in cases if re.search(args.match, c.surface + "/" + c.name)]
        seen = set()
        for i, c in enumerate(cases):
            assert (c.surface, c.name) not in seen, "duplicate case name %s/%s" % (c.surface, c.name)
            seen.add((c.surface, c.name))
            c.dir = os.path.join(work, "cases", "%03d-%s-%s" % (i, c.surface, re.sub(r"[^A-Za-z0-9_.-]", "_", c.name)))
            os.makedirs(c.dir)
            if c.setup:
                c.setup(c.dir)
        log("survey: %d cases" % len(cases))

        results = [None] * len(cases)
        done = [0]

        def job(i):
            r = run_case(ctx, cases[i])
            results[i] = r
            with LOG_LOCK:
                done[0] += 1
                print("[%3d/%d] %-11s %-52s %-11s %5.1fs  %s" % (done[0], len(cases), r["surface"], r["case"][:52], r["classification"],
                                                                r["seconds"], r["stderr_first"][:90]), file=sys.stderr, flush=True)

        pooled = [i for i, c in enumerate(cases) if c.runner is None]
        alone = [i for i, c in enumerate(cases) if c.runner is not None]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(args.jobs, 2))) as pool:
            list(pool.map(job, pooled))
        for i in alone:  # timing-sensitive kill tests run alone
            job(i)
        seconds = time.monotonic() - t_start
        md = report(results, args, seconds, ctx.spiking)
        print(md)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "table.md"), "w") as f:
                f.write(md + "\n")
            with open(os.path.join(args.out, "cases.jsonl"), "w") as f:
                for r in results:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
            log("survey: wrote %s/table.md and %s/cases.jsonl" % (args.out, args.out))
        log("survey: %.0f s" % seconds)
    finally:
        if not args.work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
