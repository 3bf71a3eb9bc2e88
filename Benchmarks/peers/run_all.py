"""Runs the suite's workloads in Fluxion, PyTorch and JAX on this machine, one workload at a
time (all implementations of a workload back to back, so that they see the same conditions),
and prints markdown tables: medians with ratios Fluxion/peer, the targets met or missed, W3's
peak memory, and whether the checksums agree.

    .build/peers/bin/python Benchmarks/peers/run_all.py [--quick] [--only W3,W4] [--skip-build]

The machine may be shared, and PyTorch's OpenMP threads in particular slow down many times
when another process takes a core. So before each workload the script waits (up to
--max-wait seconds) until the CPUs are at least 90% idle, and it measures how much CPU other
processes used while each benchmark process ran (from /proc/stat less the process's own
rusage); above 10% of the machine it runs that process again, up to three times, keeping the
quietest run. Each JSON line gets that share as "other_load".

Every JSON line is also appended to --output (default Benchmarks/peers/latest.jsonl) as soon as
it is measured, after a first line describing the machine; --tables-from FILE prints the
tables again from such a file. Each W3 batch size runs in its own process for every
implementation, so that peak-memory figures do not depend on what ran before.

OpenBLAS: the Debian build of OpenBLAS 0.3.21 does not recognise some recent Intel CPUs and
falls back to its generic "Prescott" (SSE3) kernels, about a third of the machine's GEMM rate.
Fluxion then switches OpenBLAS to the kernels the CPU supports itself, as PyTorch's MKL and XLA
pick theirs; --blas-default keeps the detected core (FLUXION_KEEP_BLAS_CORE=1). The detected
core is printed with the machine.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = os.path.dirname(HERE)
BINARY = os.path.join(BENCHMARKS, ".build", "release", "FluxionBenchmarks")
WORKLOADS = ["W1", "W2", "W3", "W3n", "W4", "W5", "W5d", "W6", "W7", "W8"]
BATCHES = [16, 64, 256, 1024]
W3N_BATCHES = [64, 256, 1024]  # W3n: DP-SGD clipping at the batch sizes private training uses
PEERS = ["torch-eager", "torch-func", "jax-jit"]
OUTPUT = None  # every record is appended here as soon as it is measured


def log(message):
    print(message, file=sys.stderr, flush=True)


def busy_jiffies():
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # busy (not idle or iowait), total


def run_once(command, env):
    """The command's JSON records and the share of the machine other processes used meanwhile."""
    children = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN))
    busy0, total0, own0 = *busy_jiffies(), children()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    busy1, total1, own1 = *busy_jiffies(), children()
    if result.returncode != 0:
        log(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")
    hz = os.sysconf("SC_CLK_TCK")
    others = max(0.0, (busy1 - busy0) / hz - (own1 - own0)) / max((total1 - total0) / hz, 1e-9)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return records, others


def run_lines(command, env=None, attempts=3, max_wait=600):
    """Runs a benchmark process; if other processes took more than 10% of the machine while it
    ran, waits for quiet and runs it again (up to `attempts` times), keeping the quietest run."""
    log("$ " + " ".join(command))
    best = None
    for attempt in range(attempts):
        if attempt:
            wait_for_quiet(max_wait)
        records, others = run_once(command, env)
        if best is None or others < best[1]:
            best = (records, others)
        if others <= 0.1:
            break
        log(f"  other processes used {others:.0%} of the machine; {'again' if attempt + 1 < attempts else 'keeping the quietest run'}")
    records, others = best
    for r in records:
        r["other_load"] = round(others, 3)
        log(f"  {r['workload']:28} {r['implementation']:18} {r['median_s'] * 1e3:10.3f} ms  checksum {r['checksum']:.9g}")
        if OUTPUT:
            with open(OUTPUT, "a") as f:
                f.write(json.dumps(r) + "\n")
    return records


def blas_environment(keep_default):
    """The environment for the Fluxion runs, and the core OpenBLAS detects when it loads."""
    env = dict(os.environ)
    probe = subprocess.run([BINARY, "--only", "none"], capture_output=True, text=True,
                           env={**env, "OPENBLAS_VERBOSE": "2"})
    match = re.search(r"Core: (\w+)", probe.stdout + probe.stderr)
    if keep_default:
        env["FLUXION_KEEP_BLAS_CORE"] = "1"
    return env, match.group(1) if match else "unknown"


def machine_description(detected, keep_default, python):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    field = lambda name: (re.search(rf"^{name}:\s*(.+)$", lscpu, re.M) or [None, "?"])[1].strip()
    memory = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) / 2 ** 20
    versions = subprocess.run([python, "-c", "import torch, jax, numpy; print(torch.__version__, jax.__version__, numpy.__version__)"],
                              capture_output=True, text=True).stdout.split()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    blas = f"{detected} as detected" + ("" if keep_default else
                                        " (Fluxion replaces an SSE-era core on an AVX2 or AVX-512 CPU itself and says so)")
    model, cores, threads = field("Model name"), field(r"CPU\(s\)"), field(r"Thread\(s\) per core")
    return "\n".join([
        f"- date: {datetime.date.today().isoformat()}",
        f"- CPU: {model}, {cores} cores ({threads} thread per core), {memory:.0f} GiB, {platform.system()} {platform.release()}",
        f"- Fluxion: {swift[0] if swift else 'swift ?'}, release build, Debian OpenBLAS, core {blas}",
        f"- peers: torch {versions[0] if versions else '?'} (2 threads), jax {versions[1] if len(versions) > 1 else '?'}, "
        f"numpy {versions[2] if len(versions) > 2 else '?'}",
    ])


def idle_fraction(interval=0.5):
    def sample():
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total
    idle0, total0 = sample()
    time.sleep(interval)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(total1 - total0, 1)


def wait_for_quiet(max_wait):
    """True once the machine is quiet, False if it stayed busy for max_wait seconds."""
    start = time.time()
    while idle_fraction() < 0.9:
        if time.time() - start > max_wait:
            log("  machine still busy; running anyway")
            return False
        time.sleep(5)
    return True


def collect(args, env):
    python = args.python
    quick = ["--quick"] if args.quick else []
    records = []
    for w in args.only:
        wait_for_quiet(args.max_wait)
        if w in ("W3", "W3n"):
            batches = args.batches if w == "W3" else ([b for b in args.batches if b in W3N_BATCHES] or W3N_BATCHES)
            for b in batches:
                if b != batches[0]:
                    wait_for_quiet(args.max_wait)
                batch = ["--batches", str(b)]
                records += run_lines([BINARY, "--only", w] + batch + quick, env, max_wait=args.max_wait)
                records += run_lines([python, os.path.join(HERE, "torch_workloads.py"), "--only", w] + batch + quick, max_wait=args.max_wait)
                records += run_lines([python, os.path.join(HERE, "jax_workloads.py"), "--only", w] + batch + quick, max_wait=args.max_wait)
        else:
            records += run_lines([BINARY, "--only", w] + quick, env, max_wait=args.max_wait)
            records += run_lines([python, os.path.join(HERE, "torch_workloads.py"), "--only", w] + quick, max_wait=args.max_wait)
            records += run_lines([python, os.path.join(HERE, "jax_workloads.py"), "--only", w] + quick, max_wait=args.max_wait)
    return records


# Tables.

def seconds(t):
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


class Results:
    def __init__(self, records):
        self.by_key = {(r["workload"], r["implementation"]): r for r in records}
        self.workloads = list(dict.fromkeys(r["workload"] for r in records))

    def get(self, workload, implementation):
        return self.by_key.get((workload, implementation))

    def median(self, workload, implementation):
        r = self.get(workload, implementation)
        return r["median_s"] if r else None


def main_table(results):
    rows = ["| workload | Fluxion | torch-eager | torch-func | jax-jit | Fluxion jit (÷ jax-jit) | other |",
            "|---|---|---|---|---|---|---|"]
    for w in results.workloads:
        fluxion = results.median(w, "fluxion")
        cells = []
        for peer in PEERS:
            t = results.median(w, peer)
            if t is None:
                cells.append("—")
            elif fluxion is None:
                cells.append(seconds(t))
            else:
                cells.append(f"{seconds(t)} ({fluxion / t:.2f}×)")
        jitted, jax = results.median(w, "fluxion-jit"), results.median(w, "jax-jit")
        if jitted is None:
            cells.append("—")
        else:
            cells.append(seconds(jitted) + (f" ({jitted / jax:.2f}×)" if jax else ""))
        others = [(impl, r["median_s"]) for (wl, impl), r in results.by_key.items()
                  if wl == w and impl not in ("fluxion", "fluxion-jit") and impl not in PEERS]
        other = "; ".join(f"{impl} {seconds(t)}" + (f" ({fluxion / t:.2f}×)" if fluxion else "") for impl, t in others)
        fluxion_cell = seconds(fluxion) if fluxion is not None else "no result"
        if w == "W1-scalar-chain" and fluxion is not None:
            fluxion_cell += f" = {fluxion * 1e6 / 100:.2f} µs/step"
        rows.append(f"| {w} | {fluxion_cell} | " + " | ".join(cells) + f" | {other or '—'} |")
    return "\n".join(rows)


def ratio_target(results, label, workload, peer, bound, fluxion="fluxion"):
    """Met when Fluxion's median / the peer's is below `bound` (or at most, for `within`).
    `fluxion` and `peer` may be lists of implementations: each side's fastest row counts (a
    peer at its best)."""
    best = lambda names: min(((results.median(workload, n), n) for n in ([names] if isinstance(names, str) else names)
                              if results.median(workload, n) is not None), default=(None, None))
    (f, fluxion), (p, peer_name) = best(fluxion), best(peer)
    if f is None or p is None:
        missing = "no Fluxion result" if f is None else f"no {peer} result"
        return f"| {label} | {missing} | — |"
    ratio = f / p
    met = ratio <= bound
    return f"| {label} | {fluxion}/{peer_name} = {ratio:.3g} (bound {bound:.3g}) | {'met' if met else 'missed'} |"


def compile_target(results, label, workload, bound):
    """Met when Fluxion's jit compile time / JAX's is at most `bound`."""
    f, j = results.get(workload, "fluxion-jit"), results.get(workload, "jax-jit")
    if not f or not j or "compile_s" not in f or "compile_s" not in j:
        return f"| {label} | no compile times | — |"
    ratio = f["compile_s"] / j["compile_s"]
    return (f"| {label} | {seconds(f['compile_s'])} vs {seconds(j['compile_s'])} = {ratio:.3g} (bound {bound:.3g}) "
            f"| {'met' if ratio <= bound else 'missed'} |")


def memory_of(results, workload, implementation):
    r = results.get(workload, implementation)
    return r.get("peak_rss_delta_mib") if r else None


def targets_table(results, batches):
    w3 = lambda b: f"W3-per-sample-grad-b{b}"
    rows = ["| target | measured (Fluxion/peer, medians) | status |", "|---|---|---|"]
    rows.append(ratio_target(results, "W1 ≤ 1/20 of torch eager backward() per step (Tensor.backward)", "W1-scalar-chain", "torch-eager", 1 / 20,
                             fluxion="fluxion-backward"))
    rows.append(ratio_target(results, "W1 ≤ 1/20 of torch eager backward() per step (grad)", "W1-scalar-chain", "torch-eager", 1 / 20))
    rows.append(ratio_target(results, "W1 under jit ≤ 1/10 of unstaged valueAndGrad", "W1-scalar-chain", "fluxion", 1 / 10,
                             fluxion="fluxion-jit"))
    for w, name in (("W1-scalar-chain", "W1"), ("W5-pinn-f64", "W5"), ("W6-maml", "W6")):
        rows.append(compile_target(results, f"{name} jit compile ≤ 1/5 of JAX's", w, 1 / 5))
    rows.append(ratio_target(results, "W2 faster than torch eager", "W2-mlp-train-b128", "torch-eager", 1))
    rows.append(ratio_target(results, "W2 faster than jax.jit", "W2-mlp-train-b128", "jax-jit", 1))
    for b in (64, 256):
        if b in batches:
            rows.append(ratio_target(results, f"W3 b{b} faster than jax.jit(vmap(grad))", w3(b), "jax-jit", 1))
    per_example = [(b, results.median(w3(b), "fluxion")) for b in batches]
    per_example = [(b, t / b) for b, t in per_example if t is not None]
    if len(per_example) > 1:
        # "Flat or falling": no batch size costs more than 10% more per example than the one before.
        flat = all(later <= 1.1 * earlier for (_, earlier), (_, later) in zip(per_example, per_example[1:]))
        series = ", ".join(f"b{b} {t * 1e6:.1f} µs" for b, t in per_example)
        rows.append(f"| W3 time per example flat or falling, b{per_example[0][0]}→b{per_example[-1][0]} (≤ +10% per step) "
                    f"| {series} | {'met' if flat else 'missed'} |")
    for b in batches:
        f, t = memory_of(results, w3(b), "fluxion"), memory_of(results, w3(b), "torch-func")
        if f is not None and t is not None:
            rows.append(f"| W3 b{b} peak memory ≤ PyTorch's (torch.func) | {f:.0f} MiB vs {t:.0f} MiB = {f / max(t, 1e-9):.3g} "
                        f"| {'met' if f <= t else 'missed'} |")
    # W3n: DP-SGD's clipping against Opacus' ghost clipping, and its memory against a non-private step.
    for b in W3N_BATCHES:
        for kind in ("norms", "clipped-sum"):
            rows.append(ratio_target(results, f"W3n {kind} b{b} ≤ 0.9× Opacus ghost clipping", f"W3n-{kind}-b{b}", "opacus-ghost", 0.9))
        f, step = memory_of(results, f"W3n-clipped-sum-b{b}", "fluxion"), memory_of(results, f"W3n-nonprivate-step-b{b}", "fluxion")
        if f is not None and step is not None:
            rows.append(f"| W3n b{b} peak memory ≤ 1.5× a non-private step | {f:.0f} MiB vs {step:.0f} MiB = {f / max(step, 1e-9):.3g} "
                        f"| {'met' if f <= 1.5 * max(step, 1e-9) else 'missed'} |")
    rows.append(ratio_target(results, "W4 faster than torch.func.hessian", "W4-hessian-f64", "torch-func", 1))
    rows.append(ratio_target(results, "W4 within 1.5× of jax.jit(jax.hessian)", "W4-hessian-f64", "jax-jit", 1.5))
    rows.append(ratio_target(results, "W5 faster than torch eager (create_graph)", "W5-pinn-f64", "torch-eager", 1))
    rows.append(ratio_target(results, "W5 faster than torch.func", "W5-pinn-f64", "torch-func", 1))
    rows.append(ratio_target(results, "W5 within 1.25× of jax.jit", "W5-pinn-f64", "jax-jit", 1.25))
    rows.append(ratio_target(results, "W5 (forward-over-forward, both sides) within 1.25× of jax.jit", "W5-pinn-f64",
                             "jax-jit-jvp-jvp", 1.25, fluxion="fluxion-jvp-jvp"))
    rows.append(ratio_target(results, "W6 ≥ 3× faster than torch.func", "W6-maml", "torch-func", 1 / 3))
    rows.append(ratio_target(results, "W7 jacrev faster than jax.jit", "W7-jacobian-jacrev", "jax-jit", 1))
    rows.append(ratio_target(results, "W7 jacfwd faster than jax.jit", "W7-jacobian-jacfwd", "jax-jit", 1))
    rows.append(ratio_target(results, "W8 within 10% of three raw GEMMs", "W8-linear-1024", "cblas", 1.1))
    rows.append(ratio_target(results, "W8 (vjp of the layer) within 10% of three raw GEMMs", "W8-linear-1024", "cblas", 1.1,
                             fluxion="fluxion-vjp"))
    rows.append(ratio_target(results, "W8 faster than torch eager", "W8-linear-1024", "torch-eager", 1))
    # Ahead of jax.jit: each jitted workload at most 0.9× JAX's fastest row.
    jitted = ["fluxion-jit", "fluxion-jvp-jvp-jit", "fluxion-laplacian-jit"]
    for w, name in (("W1-scalar-chain", "W1"), ("W2-mlp-train-b128", "W2"), ("W4-hessian-f64", "W4"),
                    ("W5-pinn-f64", "W5"), ("W6-maml", "W6"), ("W7-jacobian-jacrev", "W7 jacrev"),
                    ("W7-jacobian-jacfwd", "W7 jacfwd")):
        rows.append(ratio_target(results, f"{name} jitted ≤ 0.9× jax.jit (each side's fastest row)", w,
                                 ["jax-jit", "jax-jit-jvp-jvp", "jax-jit-folx"], 0.9, fluxion=jitted))
    # The forward Laplacian against folx's, both jitted, in two and ten dimensions.
    for w, name in (("W5-pinn-f64", "W5"), ("W5d-pinn10-f64", "W5d")):
        rows.append(ratio_target(results, f"{name} forward Laplacian ≤ 0.9× folx (jax.jit)", w, "jax-jit-folx", 0.9,
                                 fluxion="fluxion-laplacian-jit"))
    growth = [results.median(w, n) for w, n in (("W5-pinn-f64", "fluxion-laplacian-jit"), ("W5d-pinn10-f64", "fluxion-laplacian-jit"),
                                                ("W5-pinn-f64", "jax-jit-folx"), ("W5d-pinn10-f64", "jax-jit-folx"))]
    if all(g is not None for g in growth):
        ours, theirs = growth[1] / growth[0], growth[3] / growth[2]
        rows.append(f"| W5d forward Laplacian's cost from d = 2 to 10 growing no faster than folx's | Fluxion ×{ours:.2f}, folx ×{theirs:.2f} "
                    f"| {'met' if ours <= theirs else 'missed'} |")
    rows.append(ratio_target(results, "W2 eager facade step ≤ 0.9× torch eager", "W2-mlp-train-b128", "torch-eager", 0.9))
    for b in (64, 256):
        if b in batches:
            rows.append(ratio_target(results, f"W3 b{b} ≤ 0.5× jax.jit(vmap(grad))", w3(b), "jax-jit", 0.5))
    rows.append(ratio_target(results, "W8 ≤ 1.05× three raw GEMMs", "W8-linear-1024", "cblas", 1.05))
    selected = {w[:2] for w in results.workloads}
    return "\n".join(r for r in rows if not r.startswith("| W") or r[2:4] in selected)


def memory_table(results, batches):
    rows = ["| batch | Fluxion | torch-func | torch-loop | jax-jit |", "|---|---|---|---|---|"]
    for b in batches:
        w = f"W3-per-sample-grad-b{b}"
        cells = []
        for impl in ("fluxion", "torch-func", "torch-loop", "jax-jit"):
            m = memory_of(results, w, impl)
            cells.append("—" if m is None else f"{m:.0f} MiB")
        rows.append(f"| {b} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def checksum_table(results):
    rows = ["| workload | checksums (implementation: value) | largest relative difference |", "|---|---|---|"]
    for w in results.workloads:
        items = [(impl, r["checksum"]) for (wl, impl), r in results.by_key.items() if wl == w]
        values = [v for _, v in items]
        reference = max(abs(v) for v in values) or 1
        spread = (max(values) - min(values)) / reference
        listing = ", ".join(f"{impl} {v:.9g}" for impl, v in items)
        rows.append(f"| {w} | {listing} | {spread:.1e} |")
    return "\n".join(rows)


def compile_table(results):
    rows = ["| workload | implementation | compile (excluded from timings) |", "|---|---|---|"]
    for (w, impl), r in results.by_key.items():
        if "compile_s" in r:
            rows.append(f"| {w} | {impl} | {seconds(r['compile_s'])} |")
    return "\n".join(rows)


def report(args, records, machine):
    results = Results(records)
    out = []
    out.append(machine)
    noisy = sorted({(r["workload"], r["implementation"]) for r in records if r.get("other_load", 0) > 0.1})
    out.append(f"- measurements during which other processes used more than 10% of the machine (after 3 tries): "
          f"{', '.join(f'{w} {i}' for w, i in noisy) or 'none'}")
    out.append("")
    out.append("Medians; in parentheses Fluxion's median divided by the peer's (below 1: Fluxion faster).")
    out.append("")
    out.append(main_table(results))
    out.append("")
    out.append(targets_table(results, args.batches))
    if any(w.startswith("W3") for w in results.workloads):
        out.append("")
        out.append("W3 peak resident memory added by the workload (VmHWM − VmRSS, one process per batch size):")
        out.append("")
        out.append(memory_table(results, args.batches))
    out.append("")
    out.append(checksum_table(results))
    out.append("")
    out.append(compile_table(results))

    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="W3 batch sizes")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--blas-default", action="store_true", help="keep the OpenBLAS core it detects")
    parser.add_argument("--python", default=sys.executable, help="the Python with torch and jax")
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait for a quiet machine per workload")
    parser.add_argument("--tables-from", help="print the tables for a JSON-lines file of an earlier run")
    parser.add_argument("--output", default=os.path.join(HERE, "latest.jsonl"))
    args = parser.parse_args()
    args.only = [w.strip() for w in args.only.split(",") if w.strip()]
    args.batches = [int(b) for b in args.batches.split(",")]

    if args.tables_from:
        lines = [json.loads(line) for line in open(args.tables_from)]
        machine = "\n".join(r["machine"] for r in lines if "machine" in r)
        print(report(args, [r for r in lines if "workload" in r], machine))
        return
    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--package-path", BENCHMARKS], check=True, stdout=sys.stderr)
    env, detected = blas_environment(args.blas_default)
    machine = machine_description(detected, args.blas_default, args.python)
    global OUTPUT
    OUTPUT = args.output
    with open(OUTPUT, "w") as f:
        f.write(json.dumps({"machine": machine}) + "\n")
    records = collect(args, env)
    print(report(args, records, machine))

if __name__ == "__main__":
    main()
