"""What the peer scripts share with the Swift harness: the inputs, the timing policy, the JSON
lines and the peak-memory method.

Inputs. Every array comes from its own numbered stream, exactly as in
Benchmarks/Sources/FluxionBenchmarks/WorkloadData.swift:

    value i of stream s (i = 0, 1, ...):  z = s + (i + 1) * 0x9E3779B97F4A7C15  (mod 2**64)
        z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9;  z = (z ^ z >> 27) * 0x94D049BB133111EB
        z = z ^ z >> 31                      (SplitMix64 indexed by position)
    uniform u_i = (z >> 11) * 2**-53 in [0, 1)
    normal pair j by Box-Muller in float64:  r = sqrt(-2 ln(1 - u_2j)),
        n_2j = r cos(2 pi u_2j+1),  n_2j+1 = r sin(2 pi u_2j+1)

Scaling happens in float64, then values are rounded once to the workload's dtype. An array of
shape [B, ...] is the first B rows of its stream. Weights are stored [fan_in, fan_out] as on
the Swift side (layers compute x @ W + b); where a peer runs faster with them [out, in]
(PyTorch's F.linear; JAX's W2 and W3) it transposes them once.

Timing. A warm-up call, then repetitions until at least 20 and at least 2 s (--quick: 5 and
0.2 s); the median, min and max of the per-call times are reported.

Peak memory. /proc/self/status's high-water mark VmHWM is reset to the current resident size
by writing 5 to /proc/self/clear_refs; the figure is VmHWM after the repetitions minus VmRSS at
the reset. run_all.py runs each W3 batch size in its own process.
"""

import argparse
import json
import math
import time

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _bits(seed, count):
    i = np.arange(1, count + 1, dtype=np.uint64)
    z = np.uint64(seed) + i * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _unit(seed, count):
    return (_bits(seed, count) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def stream_uniform(shape, seed, low=0.0, high=1.0, dtype=np.float32):
    count = math.prod(shape)
    return (low + (high - low) * _unit(seed, count)).reshape(shape).astype(dtype)


def stream_normal(shape, seed, scale=1.0, dtype=np.float32):
    count = math.prod(shape)
    pairs = (count + 1) // 2
    u = _unit(seed, 2 * pairs)
    r = np.sqrt(-2.0 * np.log(1.0 - u[0::2]))
    angle = 2.0 * np.pi * u[1::2]
    out = np.empty(2 * pairs)
    out[0::2] = r * np.cos(angle)
    out[1::2] = r * np.sin(angle)
    return (out[:count] * scale).reshape(shape).astype(dtype)


def stream_weight(fan_in, fan_out, seed, dtype=np.float32):
    return stream_normal([fan_in, fan_out], seed, scale=1.0 / math.sqrt(fan_in), dtype=dtype)


def stream_labels(count, classes, seed):
    return np.floor(classes * _unit(seed, count)).astype(np.int64)


# The workloads' inputs, as (name -> numpy array); seeds as in Workloads.swift.

def mlp3_params():
    return [stream_weight(784, 256, 1), np.zeros(256, np.float32),
            stream_weight(256, 256, 2), np.zeros(256, np.float32),
            stream_weight(256, 10, 3), np.zeros(10, np.float32)]


def mlp3_data(batch):
    return stream_normal([batch, 784], 10), stream_labels(batch, 10, 11)


def w4_data():
    a = stream_normal([128, 128], 40, scale=1.0 / math.sqrt(128), dtype=np.float64)
    x = stream_normal([128], 41, dtype=np.float64)
    return a, x


def pinn_params(d=2):
    """The PINN network's weights: streams 50-52 for d = 2 (W5), 55-57 otherwise (W5d)."""
    f64 = np.float64
    seed = 50 if d == 2 else 55
    return [stream_weight(d, 64, seed, f64), np.zeros(64, f64),
            stream_weight(64, 64, seed + 1, f64), np.zeros(64, f64),
            stream_weight(64, 1, seed + 2, f64), np.zeros(1, f64)]


def pinn_points(d=2):
    """1024 collocation points: stream 53 for d = 2 (W5), 58 otherwise (W5d)."""
    return stream_uniform([1024, d], 53 if d == 2 else 58, dtype=np.float64)


def sine_params():
    return [stream_weight(1, 40, 60), np.zeros(40, np.float32),
            stream_weight(40, 40, 61), np.zeros(40, np.float32),
            stream_weight(40, 1, 62), np.zeros(1, np.float32)]


def maml_tasks():
    """Support x, support y, query x, query y, each [25, 10, 1] float32; y = A sin(x - phi)."""
    amplitude = stream_uniform([25, 1, 1], 63, 0.1, 5.0)
    phase = stream_uniform([25, 1, 1], 64, 0.0, math.pi)
    sx = stream_uniform([25, 10, 1], 65, -5.0, 5.0)
    qx = stream_uniform([25, 10, 1], 66, -5.0, 5.0)
    # Computed in float32 from the float32 inputs, as the Swift side does.
    return sx, amplitude * np.sin(sx - phase), qx, amplitude * np.sin(qx - phase)


def w7_data():
    return stream_normal([256, 256], 70, scale=1.0 / 16), stream_normal([256], 71)


def w8_data():
    """W [out, in] (stream 80, /32) and X [batch, in] (stream 81)."""
    return stream_normal([1024, 1024], 80, scale=1.0 / 32), stream_normal([1024, 1024], 81)


def sum_of_squares(arrays):
    return float(sum(np.sum(np.asarray(a, dtype=np.float64) ** 2) for a in arrays))


# Timing and reporting.

def measure(workload, implementation, body, checksum, quick, extra=None):
    """Times body() by the suite's policy and prints one JSON line; returns the record."""
    min_reps, min_seconds = (5, 0.2) if quick else (20, 2.0)
    body()
    samples = []
    start = time.perf_counter()
    while len(samples) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        body()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    # The extra figures (peak memory) are read before the checksum, so they describe the workload.
    figures = extra() if callable(extra) else (extra or {})
    record = {"workload": workload, "implementation": implementation,
              "median_s": samples[len(samples) // 2], "min_s": samples[0], "max_s": samples[-1],
              "repetitions": len(samples), "checksum": float(checksum())}
    record.update(figures)
    print(json.dumps(record), flush=True)
    return record


class PeakMemory:
    """Peak resident memory added while a workload runs (see the module notes)."""

    def __init__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.reset_worked = True
        except OSError:
            self.reset_worked = False
        self.baseline_kib = self._status("VmRSS")

    @staticmethod
    def _status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def fields(self):
        if not self.reset_worked:
            return {}
        return {"peak_rss_delta_mib": (self._status("VmHWM") - self.baseline_kib) / 1024,
                "baseline_rss_mib": self.baseline_kib / 1024}


def parse_arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. W3,W4 (default: all)")
    parser.add_argument("--quick", action="store_true", help="5 repetitions and 0.2 s per measurement")
    parser.add_argument("--batches", default="16,64,256,1024", help="W3 batch sizes")
    args = parser.parse_args()
    args.only = {w.strip() for w in args.only.split(",") if w.strip()}
    args.batches = [int(b) for b in args.batches.split(",") if b]
    return args


def selected(args, workload):
    return not args.only or workload in args.only
