"""Workloads W1-W8 in PyTorch, eager autograd and torch.func, on 2 threads.

Prints one JSON line per (workload, implementation) in the Swift harness's format, with the
same inputs and checksums (see common.py and Workloads.swift). Implementations:

    torch-eager   autograd on tensors (backward(), autograd.grad, create_graph for W5)
    torch-func    torch.func transforms (vmap, grad, hessian, jacrev, jacfwd)
    torch-loop    W3 only: autograd.grad per example, for reference
    opacus-ghost  W3n only: Opacus ghost clipping (when opacus is installed)

Run:  python torch_workloads.py [--only W3,W4] [--quick] [--batches 16,64]
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import grad, grad_and_value, hessian, jacfwd, jacrev, vmap

import common

torch.set_num_threads(2)


def tensors(arrays, requires_grad=False):
    return [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(requires_grad) for a in arrays]


def linear_params(arrays, requires_grad=False):
    """[W1, b1, W2, b2, ...] with weights transposed once to PyTorch's [out, in] for F.linear."""
    out = [a.T.copy() if a.ndim == 2 else a for a in arrays]
    return tensors(out, requires_grad)


def mlp(params, x, activation):
    h = x
    layers = len(params) // 2
    for k in range(layers):
        h = F.linear(h, params[2 * k], params[2 * k + 1])
        if k < layers - 1:
            h = activation(h)
    return h


def w1(args):
    """x 0-d float32, 100 times x = sin(x)·1.01 + 0.1, then backward(). The constants are 0-d
    tensors made once: written as Python floats, each multiply and add wraps its scalar in a new
    tensor, and the step takes a third longer (1.88 against 1.40 ms), with the same bits.
    autograd.grad, methods or in-place mul_/add_ instead were no faster."""
    scale, shift = torch.tensor(1.01), torch.tensor(0.1)

    def step():
        x = torch.tensor(0.5, requires_grad=True)
        y = x
        for _ in range(100):
            y = torch.sin(y) * scale + shift
        y.backward()
        return y.detach(), x.grad

    common.measure("W1-scalar-chain", "torch-eager", step, lambda: step()[1].item(), args.quick)


def w2(args):
    """One training step of the 784-256-256-10 ReLU MLP at batch 128: nn.Sequential, cross
    entropy, backward(), optim.SGD. SGD with foreach or fused, and in-place ReLU, gave the same
    parameters and were no faster."""
    x, labels = (torch.from_numpy(a) for a in common.mlp3_data(128))

    def make():
        arrays = common.mlp3_params()
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
        with torch.no_grad():
            for p, a in zip(model.parameters(), linear_params(arrays)):
                p.copy_(a)
        return model

    def checksum():
        model = make()
        F.cross_entropy(model(x), labels).backward()
        return common.sum_of_squares([p.grad for p in model.parameters()])

    model = make()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()

    common.measure("W2-mlp-train-b128", "torch-eager", step, checksum, args.quick)


def w3(args):
    """Per-sample gradients by vmap(grad(loss)), and by autograd.grad per example. Each example
    a [1, 784] row through F.linear: vectors (with cross_entropy or a gathered log_softmax),
    [in, out] weights with @, x @ W.T, vmap's chunk_size (1.5-2.4x slower) and an outer
    torch.no_grad were no faster; for the loop, vectors, [in, out] weights and backward()."""
    params = linear_params(common.mlp3_params())

    def example_loss(params, x, y):
        return F.cross_entropy(mlp(params, x.unsqueeze(0), F.relu), y.unsqueeze(0))

    per_sample = vmap(grad(example_loss), in_dims=(None, 0, 0))
    leaf_params = [p.detach().requires_grad_() for p in params]

    def loop(x, y):
        return [torch.autograd.grad(example_loss(leaf_params, x[i], y[i]), leaf_params) for i in range(len(x))]

    # One call of each at batch 1 first, so that one-time initialisation is not counted as
    # the workload's memory.
    x1, y1 = (torch.from_numpy(a) for a in common.mlp3_data(1))
    per_sample(params, x1, y1)
    loop(x1, y1)
    for batch in args.batches:
        x, y = (torch.from_numpy(a) for a in common.mlp3_data(batch))
        name = f"W3-per-sample-grad-b{batch}"
        peak = common.PeakMemory()
        common.measure(name, "torch-func", lambda: per_sample(params, x, y),
                       lambda: common.sum_of_squares(per_sample(params, x, y)), args.quick, extra=peak.fields)
        if batch <= 256:
            peak = common.PeakMemory()
            common.measure(name, "torch-loop", lambda: loop(x, y),
                           lambda: common.sum_of_squares([g for gs in loop(x, y) for g in gs]), args.quick,
                           extra=peak.fields)


def w3n(args):
    """DP-SGD's per-example norms and clipped sum (C = 1) on W3's MLP, per-example cross-entropy.
    torch-func: per-example gradients by vmap(grad), then their norms and the clipped sum
    (einsum of the factors with each gradient). opacus-ghost (when opacus imports): Opacus
    1.6's GradSampleModuleFastGradientClipping with ghost clipping, as its
    DPTensorFastGradientClipping.backward runs it — a backward of the summed loss whose hooks
    give the norms, then a second backward of Σ cᵢ·Lᵢ (its hooks off) for the clipped sum.
    torch-eager: a non-private step (backward of the summed loss), for peak memory."""
    params = linear_params(common.mlp3_params())

    def example_loss(params, x, y):
        return F.cross_entropy(mlp(params, x.unsqueeze(0), F.relu), y.unsqueeze(0))

    per_sample = vmap(grad(example_loss), in_dims=(None, 0, 0))

    def func_norms(x, y):
        g = per_sample(params, x, y)
        return torch.sqrt(sum(gi.reshape(len(x), -1).pow(2).sum(1) for gi in g))

    def func_clipped(x, y):
        g = per_sample(params, x, y)
        norms = torch.sqrt(sum(gi.reshape(len(x), -1).pow(2).sum(1) for gi in g))
        c = (1.0 / (norms + 1e-6)).clamp(max=1.0)
        return [torch.einsum("i,i...->...", c, gi) for gi in g]

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    with torch.no_grad():
        for p, value in zip(model.parameters(), params):
            p.copy_(value)

    def eager_step(x, y):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y, reduction="sum").backward()
        return [p.grad for p in model.parameters()]

    try:
        import warnings
        # Opacus' hooks fire on module outputs when the input does not require grad, as here.
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        from opacus.grad_sample import GradSampleModuleFastGradientClipping
        ghost = GradSampleModuleFastGradientClipping(model, batch_first=True, loss_reduction="sum", max_grad_norm=1.0,
                                                     use_ghost_clipping=True)
    except ImportError:
        ghost = None

    def opacus_norms(x, y):
        ghost.zero_grad(set_to_none=True)
        F.cross_entropy(ghost(x), y, reduction="none").sum().backward()
        return ghost.get_norm_sample()

    def opacus_clipped(x, y):
        ghost.zero_grad(set_to_none=True)
        losses = F.cross_entropy(ghost(x), y, reduction="none")
        losses.sum().backward(retain_graph=True)
        ghost.zero_grad(set_to_none=True)
        c = ghost.get_clipping_coef()
        ghost.disable_hooks()
        (c * losses).sum().backward()
        ghost.enable_hooks()
        return [p.grad for p in model.parameters()]

    x1, y1 = (torch.from_numpy(a) for a in common.mlp3_data(1))
    func_clipped(x1, y1)
    if ghost is not None:
        opacus_clipped(x1, y1)
    for batch in args.batches:
        x, y = (torch.from_numpy(a) for a in common.mlp3_data(batch))
        rows = [("torch-func", func_norms, func_clipped)]
        if ghost is not None:
            rows.append(("opacus-ghost", opacus_norms, opacus_clipped))
        peak = common.PeakMemory()
        common.measure(f"W3n-nonprivate-step-b{batch}", "torch-eager", lambda: eager_step(x, y),
                       lambda: common.sum_of_squares(eager_step(x, y)), args.quick, extra=peak.fields)
        for implementation, norms, clipped in rows:
            peak = common.PeakMemory()
            common.measure(f"W3n-norms-b{batch}", implementation, lambda: norms(x, y),
                           lambda: common.sum_of_squares([norms(x, y).detach()]), args.quick, extra=peak.fields)
            peak = common.PeakMemory()
            common.measure(f"W3n-clipped-sum-b{batch}", implementation, lambda: clipped(x, y),
                           lambda: common.sum_of_squares([g.detach() for g in clipped(x, y)]), args.quick, extra=peak.fields)


def w4(args):
    """The Hessian of f(x) = Σ tanh(Ax) + ½Σx² by torch.func.hessian (jacfwd of jacrev). Ax as
    F.linear(x, A) and x² as x.square(): under hessian each is faster than A @ x and x * x
    (3.1 ms; 2.1 ms with F.linear, 2.75 ms with square, 1.9 ms with both), the same Hessian to
    the last bit or two. torch.mv, torch.dot, a [d, 1] column and torch.no_grad were no faster."""
    a, x = tensors(common.w4_data())

    def f(x):
        return torch.tanh(F.linear(x, a)).sum() + 0.5 * x.square().sum()

    h = hessian(f)
    common.measure("W4-hessian-f64", "torch-func", lambda: h(x), lambda: torch.trace(h(x)).item(), args.quick)


def w5(args):
    """Value and gradient of the PINN loss, eager with create_graph and by torch.func (grad of
    vmap of the Hessian). Eager: one is_grads_batched call for both second derivatives, [in, out]
    weights with @, square() and a points leaf made once were no faster. torch.func: [1, 2]
    rows, [in, out] weights and square() no faster. Each point's Hessian is jacrev of jacrev,
    a third faster here than torch.func.hessian's forward over reverse (10.8 against 16.2 ms)
    for the same Laplacian: the peer runs in its fastest form."""
    params = linear_params(common.pinn_params())
    points = torch.from_numpy(common.pinn_points())
    s = torch.sin(math.pi * points[:, 0]) * torch.sin(math.pi * points[:, 1])

    # Eager: second derivatives by autograd.grad with create_graph; points are independent, so
    # the gradient of Σu with respect to the points is each point's own gradient.
    leaf_params = [p.detach().requires_grad_() for p in params]

    def eager():
        pts = points.clone().requires_grad_()
        u = mlp(leaf_params, pts, torch.tanh).squeeze(-1)
        du = torch.autograd.grad(u.sum(), pts, create_graph=True)[0]
        uxx = torch.autograd.grad(du[:, 0].sum(), pts, create_graph=True)[0][:, 0]
        uyy = torch.autograd.grad(du[:, 1].sum(), pts, create_graph=True)[0][:, 1]
        loss = ((uxx + uyy - s) ** 2).mean()
        return loss, torch.autograd.grad(loss, leaf_params, materialize_grads=True)

    common.measure("W5-pinn-f64", "torch-eager", eager, lambda: common.sum_of_squares(eager()[1]), args.quick)

    # torch.func: the trace of each point's Hessian (reverse over reverse), vmapped over the points.
    def u(params, point):
        return mlp(params, point, torch.tanh).squeeze(-1)

    def laplacian(params, point):
        return torch.trace(jacrev(jacrev(u, argnums=1), argnums=1)(params, point))

    def loss(params, points, s):
        return ((vmap(laplacian, in_dims=(None, 0))(params, points) - s) ** 2).mean()

    value_and_gradient = grad_and_value(loss)
    common.measure("W5-pinn-f64", "torch-func", lambda: value_and_gradient(params, points, s),
                   lambda: common.sum_of_squares(value_and_gradient(params, points, s)[0]), args.quick)


def w6(args):
    """One outer MAML gradient, the tasks batched by torch.func.vmap. Weights kept [in, out] as
    stored and each layer x @ W + b: under vmap of grad that is faster than F.linear with them
    transposed (2.45 against 2.8 ms). torch.mm, torch.matmul, torch.addmm, x @ W.T on [out, in]
    weights, square() and a 0-d tensor learning rate were no faster."""
    params = tensors(common.sine_params())
    tasks = tensors(common.maml_tasks())

    def network(params, x):
        h = x
        for k in range(3):
            h = h @ params[2 * k] + params[2 * k + 1]
            if k < 2:
                h = F.relu(h)
        return h

    def mse(params, x, y):
        return ((network(params, x) - y) ** 2).mean()

    def adapted_loss(params, sx, sy, qx, qy):
        g = grad(mse)(params, sx, sy)
        return mse([p - 0.01 * gi for p, gi in zip(params, g)], qx, qy)

    def outer(params, tasks):
        return vmap(adapted_loss, in_dims=(None, 0, 0, 0, 0))(params, *tasks).mean()

    outer_gradient = grad(outer)
    common.measure("W6-maml", "torch-func", lambda: outer_gradient(params, tasks),
                   lambda: common.sum_of_squares(outer_gradient(params, tasks)), args.quick)


def w7(args):
    """The Jacobian of tanh(Wx) by jacrev and by jacfwd. Wx as F.linear(x, W): the same under
    jacrev, about 10% faster under jacfwd than W @ x (0.52 against 0.58 ms). x @ W.T, with W.T a
    view or a copy made once, the same as F.linear; torch.mv and a [1, d] row no faster; a
    [d, 1] column 15-20x slower."""
    w, x = tensors(common.w7_data())

    def f(x):
        return torch.tanh(F.linear(x, w))

    for mode, jacobian in (("jacrev", jacrev(f)), ("jacfwd", jacfwd(f))):
        common.measure(f"W7-jacobian-{mode}", "torch-func", lambda: jacobian(x),
                       lambda: common.sum_of_squares([jacobian(x)]), args.quick)


def w8(args):
    """L = ½Σ(XWᵀ)², both gradients by backward(); GEMM-bound. x @ w.T, square(), pow(2) and
    autograd.grad instead of backward() all timed the same."""
    w, x = tensors(common.w8_data(), requires_grad=True)

    def step():
        w.grad = None
        x.grad = None
        y = F.linear(x, w)
        loss = 0.5 * (y * y).sum()
        loss.backward()
        return loss

    def checksum():
        step()
        return common.sum_of_squares([w.grad, x.grad])

    common.measure("W8-linear-1024", "torch-eager", step, checksum, args.quick)


def w5d(args):
    """W5 in ten dimensions, eager: each ∂²u/∂xᵢ² by autograd.grad with create_graph, one call
    per dimension (the points are independent, so Σ over points serves them all)."""
    params = linear_params(common.pinn_params(10))
    points = torch.from_numpy(common.pinn_points(10))
    s = torch.sin(math.pi * points).sum(dim=1)
    leaf_params = [p.detach().requires_grad_() for p in params]

    def eager():
        pts = points.clone().requires_grad_()
        u = mlp(leaf_params, pts, torch.tanh).squeeze(-1)
        du = torch.autograd.grad(u.sum(), pts, create_graph=True)[0]
        lap = sum(torch.autograd.grad(du[:, i].sum(), pts, create_graph=True)[0][:, i] for i in range(10))
        loss = ((lap - s) ** 2).mean()
        return loss, torch.autograd.grad(loss, leaf_params, materialize_grads=True)

    common.measure("W5d-pinn10-f64", "torch-eager", eager, lambda: common.sum_of_squares(eager()[1]), args.quick)


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W3n": w3n, "W4": w4, "W5": w5, "W5d": w5d, "W6": w6, "W7": w7, "W8": w8}

if __name__ == "__main__":
    arguments = common.parse_arguments(__doc__.splitlines()[0])
    for key, run in WORKLOADS.items():
        if common.selected(arguments, key):
            run(arguments)
