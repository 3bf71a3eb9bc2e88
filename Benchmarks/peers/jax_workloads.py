"""Workloads W1-W8 in JAX, every one under jax.jit, on the CPU backend.

Prints one JSON line per (workload, implementation) in the Swift harness's format, with the
same inputs and checksums (see common.py and Workloads.swift). Each function is lowered and
compiled once before timing; that time is reported as "compile_s" and excluded from the
timings, which call the compiled executable and wait for its results. XLA's CPU backend uses
every core of the machine (two here), so no flags are set. float64 is enabled for W4 and W5;
the float32 workloads keep float32 inputs.

Implementations:
    jax-jit           the idiomatic formulation (vmap of grad, hessian = jacfwd(jacrev), ...)
    jax-jit-jvp-jvp   W5 only: second derivatives as forward-over-forward directional
                      derivatives of the batched network, as Fluxion's "fluxion-jvp-jvp"
    jax-jit-folx      W5 and W5d: the Laplacian by folx's forward Laplacian (when folx is
                      installed), as Fluxion's "fluxion-laplacian"

Run:  python jax_workloads.py [--only W3,W4] [--quick] [--batches 16,64]
"""

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

import common

jax.config.update("jax_enable_x64", True)


def compiled(f, *args):
    """f jitted and compiled for args, and the seconds that took (tracing included)."""
    t0 = time.perf_counter()
    executable = jax.jit(f).lower(*args).compile()
    return executable, time.perf_counter() - t0


def run(workload, f, args, checksum, quick, implementation="jax-jit", extra=None):
    executable, seconds = compiled(f, *args)
    peak = common.PeakMemory() if extra == "memory" else None
    body = lambda: jax.block_until_ready(executable(*args))
    fields = (lambda: {"compile_s": seconds, **peak.fields()}) if peak else {"compile_s": seconds}
    return common.measure(workload, implementation, body, lambda: checksum(executable(*args)), quick, extra=fields)


def mlp(params, x, activation):
    """x @ W + b per layer, weights [in, out] as common.py stores them."""
    h = x
    layers = len(params) // 2
    for k in range(layers):
        h = h @ params[2 * k] + params[2 * k + 1]
        if k < layers - 1:
            h = activation(h)
    return h


def mlp_out_in(params, x, activation):
    """The same network with weights [out, in] (as PyTorch's F.linear takes them): h @ W.T + b."""
    h = x
    layers = len(params) // 2
    for k in range(layers):
        h = h @ params[2 * k].T + params[2 * k + 1]
        if k < layers - 1:
            h = activation(h)
    return h


def device(arrays):
    return [jnp.asarray(a) for a in arrays]


def out_in(arrays):
    """[W1, b1, W2, b2, ...] on the device with the weights transposed once to [out, in]."""
    return [jnp.asarray(np.ascontiguousarray(a.T)) if a.ndim == 2 else jnp.asarray(a) for a in arrays]


def w1(args):
    """x 0-d float32, 100 times x = sin(x)·1.01 + 0.1, value and gradient. Unrolled in Python:
    lax.fori_loop, lax.scan and a [1]-shaped x took the same 11 µs, all of it dispatch."""

    def chain(x):
        for _ in range(100):
            x = jnp.sin(x) * 1.01 + 0.1
        return x

    x0 = jnp.asarray(np.float32(0.5))
    run("W1-scalar-chain", jax.value_and_grad(chain), (x0,), lambda r: float(r[1]), args.quick)


def mean_cross_entropy(params, x, labels):
    logits = mlp_out_in(params, x, jax.nn.relu)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))


def w2(args):
    """One SGD step of the 784-256-256-10 ReLU MLP at batch 128, jitted with the parameters
    donated. Weights [out, in], as for W3: a few percent faster than [in, out] here (1.09
    against 1.11 ms, steadily). Without donation, or with logsumexp, the same; a one-hot
    label product 1.3x slower."""
    x, labels = device(common.mlp3_data(128))
    initial = out_in(common.mlp3_params())

    def step(params, x, labels):
        g = jax.grad(mean_cross_entropy)(params, x, labels)
        return [p - 0.01 * gp for p, gp in zip(params, g)]

    gradient = jax.jit(jax.grad(mean_cross_entropy))
    checksum = common.sum_of_squares(gradient(initial, x, labels))
    t0 = time.perf_counter()
    executable = jax.jit(step, donate_argnums=0).lower(initial, x, labels).compile()
    seconds = time.perf_counter() - t0
    params = out_in(common.mlp3_params())

    def train_step():
        nonlocal params
        params = jax.block_until_ready(executable(params, x, labels))

    common.measure("W2-mlp-train-b128", "jax-jit", train_step, lambda: checksum, args.quick, extra={"compile_s": seconds})


def w3(args):
    """vmap(grad(loss)) over the examples, the parameters shared. Weights [out, in] (transposed
    once, as for PyTorch's F.linear), each example a [1, 784] row: each example's weight
    gradient, an outer product, is then made in the weight's own layout. With weights [in, out]
    XLA makes it transposed and copies it over: about 2x slower at B = 256 and 1024, more at
    small B, with 1.7x the peak memory. Rows and vectors time the same. The gradients are the
    same numbers, laid out [out, in]."""
    params = out_in(common.mlp3_params())

    def example_loss(params, x, label):
        return -jax.nn.log_softmax(mlp_out_in(params, x[None, :], jax.nn.relu))[0, label]

    per_sample = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))
    for batch in args.batches:
        x, labels = device(common.mlp3_data(batch))
        run(f"W3-per-sample-grad-b{batch}", per_sample, (params, x, labels), common.sum_of_squares, args.quick,
            extra="memory")


def w3n(args):
    """DP-SGD's per-example norms and clipped sum (C = 1) on W3's MLP: per-example gradients by
    vmap(grad), then their norms and the clipped sum Σ cᵢ·gᵢ, all in one jitted function (XLA
    may fuse the clipping into the per-example gradients)."""
    params = out_in(common.mlp3_params())

    def example_loss(params, x, label):
        return -jax.nn.log_softmax(mlp_out_in(params, x[None, :], jax.nn.relu))[0, label]

    per_sample = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))

    def norms(params, x, labels):
        g = per_sample(params, x, labels)
        return jnp.sqrt(sum(jnp.sum(gi.reshape(x.shape[0], -1) ** 2, axis=1) for gi in jax.tree_util.tree_leaves(g)))

    def clipped(params, x, labels):
        g = per_sample(params, x, labels)
        n = jnp.sqrt(sum(jnp.sum(gi.reshape(x.shape[0], -1) ** 2, axis=1) for gi in jax.tree_util.tree_leaves(g)))
        c = jnp.minimum(1.0, 1.0 / (n + 1e-6))
        return jax.tree_util.tree_map(lambda gi: jnp.tensordot(c, gi, axes=1), g)

    for batch in args.batches:
        x, labels = device(common.mlp3_data(batch))
        run(f"W3n-norms-b{batch}", norms, (params, x, labels), lambda n: common.sum_of_squares([n]), args.quick, extra="memory")
        run(f"W3n-clipped-sum-b{batch}", clipped, (params, x, labels), lambda g: common.sum_of_squares(jax.tree_util.tree_leaves(g)),
            args.quick, extra="memory")


def w4(args):
    """The Hessian of f(x) = Σ tanh(Ax) + ½Σx² by jax.hessian (jacfwd of jacrev). Ax written
    x @ A.T: a few percent faster than A @ x here (0.228 against 0.236 ms); jnp.dot, jnp.square,
    a [1, d] row or a [d, 1] column no faster."""
    a, x = device(common.w4_data())

    def f(x):
        return jnp.sum(jnp.tanh(x @ a.T)) + 0.5 * jnp.sum(x * x)

    run("W4-hessian-f64", jax.hessian(f), (x,), lambda h: float(jnp.trace(h)), args.quick)


def w5(args):
    """Value and gradient of the PINN loss: grad of vmap of hessian, and forward over forward.
    Points as vectors, weights [in, out]: [1, 2] rows and [out, in] weights timed the same or
    up to 8% slower (so did jacrev of jacrev in place of hessian)."""
    params = device(common.pinn_params())
    points = jnp.asarray(common.pinn_points())
    s = jnp.sin(math.pi * points[:, 0]) * jnp.sin(math.pi * points[:, 1])

    def u(params, point):
        return mlp(params, point, jnp.tanh)[..., 0]

    def laplacian(params, point):
        return jnp.trace(jax.hessian(u, argnums=1)(params, point))

    def loss(params, points, s):
        return jnp.mean((jax.vmap(laplacian, in_axes=(None, 0))(params, points) - s) ** 2)

    def loss_forward(params, points, s):
        total = jnp.zeros_like(s)
        for axis in range(2):
            e = jnp.zeros_like(points).at[:, axis].set(1.0)
            slope = lambda q: jax.jvp(lambda r: u(params, r), (q,), (e,))[1]
            total = total + jax.jvp(slope, (points,), (e,))[1]
        return jnp.mean((total - s) ** 2)

    for implementation, f in (("jax-jit", loss), ("jax-jit-jvp-jvp", loss_forward)):
        run("W5-pinn-f64", jax.value_and_grad(f), (params, points, s), lambda r: common.sum_of_squares(r[1]),
            args.quick, implementation=implementation)
    folx_pinn("W5-pinn-f64", params, points, s, args)


def folx_pinn(workload, params, points, s, args):
    """The PINN loss with each point's Laplacian from folx's forward Laplacian, vmapped over
    the points (folx's documented use), value and gradient under jax.jit."""
    try:
        import folx
    except ImportError:
        return

    def u(params, point):
        return mlp(params, point, jnp.tanh)[..., 0]

    def loss(params, points, s):
        lap = jax.vmap(lambda p: folx.forward_laplacian(lambda q: u(params, q))(p).laplacian)(points)
        return jnp.mean((lap - s) ** 2)

    run(workload, jax.value_and_grad(loss), (params, points, s), lambda r: common.sum_of_squares(r[1]),
        args.quick, implementation="jax-jit-folx")


def w5d(args):
    """W5 in ten dimensions: Σᵢ sin(πxᵢ) as the source, the Laplacian as the trace of each
    point's 10×10 Hessian, and by folx."""
    params = device(common.pinn_params(10))
    points = jnp.asarray(common.pinn_points(10))
    s = jnp.sum(jnp.sin(math.pi * points), axis=1)

    def u(params, point):
        return mlp(params, point, jnp.tanh)[..., 0]

    def loss(params, points, s):
        lap = jax.vmap(lambda p: jnp.trace(jax.hessian(u, argnums=1)(params, p)))(points)
        return jnp.mean((lap - s) ** 2)

    run("W5d-pinn10-f64", jax.value_and_grad(loss), (params, points, s), lambda r: common.sum_of_squares(r[1]), args.quick)
    folx_pinn("W5d-pinn10-f64", params, points, s, args)


def w6(args):
    """One outer MAML gradient, the tasks batched by vmap. Weights [in, out]: [out, in],
    jnp.maximum for relu, jax.tree.map for the inner step and [10] vectors for the [10, 1]
    examples were no faster."""
    params = device(common.sine_params())
    tasks = device(common.maml_tasks())

    def mse(params, x, y):
        return jnp.mean((mlp(params, x, jax.nn.relu) - y) ** 2)

    def adapted_loss(params, sx, sy, qx, qy):
        g = jax.grad(mse)(params, sx, sy)
        return mse([p - 0.01 * gp for p, gp in zip(params, g)], qx, qy)

    def outer(params, tasks):
        return jnp.mean(jax.vmap(adapted_loss, in_axes=(None, 0, 0, 0, 0))(params, *tasks))

    run("W6-maml", jax.grad(outer), (params, tasks), common.sum_of_squares, args.quick)


def w7(args):
    """The Jacobian of tanh(Wx) by jacrev and by jacfwd. W @ x: jnp.dot the same; x @ W.T, a
    [1, d] row or a [d, 1] column the same under jacrev and 8-12% slower under jacfwd."""
    w, x = device(common.w7_data())

    def f(x):
        return jnp.tanh(w @ x)

    for mode, jacobian in (("jacrev", jax.jacrev(f)), ("jacfwd", jax.jacfwd(f))):
        run(f"W7-jacobian-{mode}", jacobian, (x,), lambda j: common.sum_of_squares([j]), args.quick)


def w8(args):
    """L = ½Σ(XWᵀ)², value and both gradients; GEMM-bound. lax.dot_general, einsum, jnp.vdot,
    jnp.square and an explicit vjp at cotangent y all timed the same. Donating W and X would
    let the gradients reuse their buffers, but every call needs them again."""
    w, x = device(common.w8_data())

    def loss(w, x):
        y = x @ w.T
        return 0.5 * jnp.sum(y * y)

    run("W8-linear-1024", jax.value_and_grad(loss, argnums=(0, 1)), (w, x), lambda r: common.sum_of_squares(r[1]),
        args.quick)


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W3n": w3n, "W4": w4, "W5": w5, "W5d": w5d, "W6": w6, "W7": w7, "W8": w8}

if __name__ == "__main__":
    arguments = common.parse_arguments(__doc__.splitlines()[0])
    for key, workload in WORKLOADS.items():
        if common.selected(arguments, key):
            workload(arguments)
