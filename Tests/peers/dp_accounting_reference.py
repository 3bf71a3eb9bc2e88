"""Reference values for RDPAccountantTests.swift from Google's dp-accounting (PyPI
`dp-accounting`, RdpAccountant with its default orders, add-or-remove-one neighbours).

Run: python dp_accounting_reference.py   (prints the Swift literals the test holds)
"""
import dp_accounting
from dp_accounting.rdp import rdp_privacy_accountant as rdp

print("// dp-accounting", dp_accounting.__version__ if hasattr(dp_accounting, "__version__") else "")
print("let rdpReference: [(q: Double, sigma: Double, order: Double, rdp: Double)] = [")
for q in (0.001, 0.01, 0.1, 0.5):
    for sigma in (0.5, 1.0, 2.0, 5.0):
        for order in (1.5, 2.0, 3.7, 8.0, 10.5, 32.0, 256.0):
            value = rdp._compute_rdp_poisson_subsampled_gaussian(q, sigma, [order])[0]
            print(f"    ({q!r}, {sigma!r}, {order!r}, {float(value)!r}),")
print("]")
print("let epsilonReference: [(q: Double, sigma: Double, steps: Int, delta: Double, epsilon: Double, order: Double)] = [")
for q in (0.001, 0.01, 0.1):
    for sigma in (0.6, 1.0, 2.0, 4.0):
        for steps in (1, 100, 10000):
            for delta in (1e-5, 1e-8):
                accountant = rdp.RdpAccountant()
                accountant.compose(dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps)
                eps, order = accountant.get_epsilon_and_optimal_order(delta)
                print(f"    ({q!r}, {sigma!r}, {steps}, {delta!r}, {float(eps)!r}, {float(order)!r}),")
print("]")
