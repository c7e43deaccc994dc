"""Numerical checks of the equations of book chapter 4 (training RNNs), independent of the page.

Truncated BPTT as a sum of path terms (eq-tbptt) against detach() and against re-running the
window; the one-step Jacobian (eq-rnn-jacobian); the power bounds (eq-power-bounds); the span
decomposition (eq-span-decomposition); norm clipping (eq-clip-norm) against PyTorch; and what the
lecture slide's squared-norm snippet really does. torch float64, about a second.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

DTYPE = torch.float64
T, D, H = 9, 3, 4


def rel_error(a, b) -> float:
    a, b = torch.as_tensor(a, dtype=DTYPE), torch.as_tensor(b, dtype=DTYPE)
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp_min(1e-12)).max())


@pytest.fixture
def net():
    g = torch.Generator().manual_seed(7)
    r = lambda *s, sc=1.0: sc * torch.randn(*s, generator=g, dtype=DTYPE)
    return dict(Wx=r(D, H, sc=0.5), Wh=r(H, H, sc=0.5), b=r(H, sc=0.1), v=r(T, H), h0=r(H, sc=0.5), x=r(T, D))


def losses(net, Wh_per_step, k=None, start=0, stop=T, h=None):
    """Per-step losses L_t = h_t . v_t of h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t in [start, stop)."""
    h = net["h0"] if h is None else h
    out = []
    for t in range(start, stop):
        if k is not None and t > 0 and t % k == 0:
            h = h.detach()
        h = torch.tanh(net["x"][t] @ net["Wx"] + h @ Wh_per_step(t) + net["b"])
        out.append(h @ net["v"][t])
    return out


def path_terms(net):
    """terms[t, s] = dL_t / dW_h^(s): the gradient through the use of W_h at step s (0-based)."""
    copies = [net["Wh"].clone().requires_grad_(True) for _ in range(T)]
    ls = losses(net, lambda t: copies[t])
    terms = torch.zeros(T, T, H, H, dtype=DTYPE)
    for t in range(T):
        terms[t, : t + 1] = torch.stack(torch.autograd.grad(ls[t], copies[: t + 1], retain_graph=True))
    return terms


def tbptt_from_paths(terms, k1, k2):
    total = torch.zeros(H, H, dtype=DTYPE)
    for t in range(1, T + 1):
        end = k1 * math.ceil(t / k1)                              # e(t), eq-tbptt
        for s in range(max(1, end - k2 + 1), t + 1):
            total += terms[t - 1, s - 1]
    return total


@pytest.mark.parametrize("k", [1, 2, 3, 4, T, T + 3])
def test_tbptt_path_sum_equals_detach_at_chunk_boundaries(net, k):
    Wh = net["Wh"].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(sum(losses(net, lambda t: Wh, k=k)), Wh)
    assert rel_error(tbptt_from_paths(path_terms(net), k, k), auto) < 1e-10


@pytest.mark.parametrize("k1, k2", [(2, 5), (3, 7), (1, 4), (4, 4), (4, 6), (T, T)])
def test_tbptt_k1_k2_equals_rerunning_the_window(net, k1, k2):
    with torch.no_grad():
        states = [net["h0"]]
        for t in range(T):
            states.append(torch.tanh(net["x"][t] @ net["Wx"] + states[-1] @ net["Wh"] + net["b"]))
    Wh = net["Wh"].clone().requires_grad_(True)
    total = torch.zeros(H, H, dtype=DTYPE)
    for end in range(k1, T + k1, k1):                               # block ends, the last one past T
        start = max(0, end - k2)
        ls = losses(net, lambda t: Wh, start=start, stop=min(end, T), h=states[start])
        block = ls[max(0, end - k1) - start:]                        # the losses of steps end-k1 .. end-1
        total += torch.autograd.grad(sum(block), Wh)[0]
    assert rel_error(tbptt_from_paths(path_terms(net), k1, k2), total) < 1e-10


def test_full_bptt_is_the_sum_of_all_path_terms_and_of_all_spans(net):
    Wh = net["Wh"].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(sum(losses(net, lambda t: Wh)), Wh)
    terms = path_terms(net)
    spans = [sum(terms[t, t - j] for t in range(j, T)) for j in range(T)]   # G_j, eq-span-decomposition
    assert rel_error(terms.sum((0, 1)), auto) < 1e-10
    assert rel_error(sum(spans), auto) < 1e-10


def test_one_step_jacobian_is_diag_tanh_prime_times_Wh_transposed(net):
    h_prev = net["h0"]
    step = lambda h: torch.tanh(net["x"][0] @ net["Wx"] + h @ net["Wh"] + net["b"])
    J = torch.autograd.functional.jacobian(step, h_prev)
    h = step(h_prev)
    assert rel_error(torch.diag(1 - h**2) @ net["Wh"].T, J) < 1e-12


def test_power_bounds_for_a_non_normal_matrix():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(12, 12, generator=g, dtype=DTYPE)
    rho = torch.linalg.eigvals(W).abs().max().item()
    sigma = torch.linalg.matrix_norm(W, ord=2).item()
    P = torch.eye(12, dtype=DTYPE)
    for k in range(1, 40):
        P = P @ W.T
        norm = torch.linalg.matrix_norm(P, ord=2).item()
        assert rho**k * (1 - 1e-9) <= norm <= sigma**k * (1 + 1e-9)
    assert abs(norm ** (1 / 39) - rho) < abs(sigma - rho)      # Gelfand: the k-th root tends to rho


@pytest.mark.parametrize("size", [0.5, 3.0, 80.0])
def test_clip_grad_norm_is_eq_clip_norm_over_all_parameters(size):
    g = torch.Generator().manual_seed(1)
    params = [torch.nn.Parameter(torch.zeros(s, dtype=DTYPE)) for s in ((3, 4), (5,), (2, 2, 2))]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=DTYPE)
    flat = torch.cat([p.grad.flatten() for p in params])
    for p in params:
        p.grad *= size / flat.norm()
    flat = torch.cat([p.grad.flatten() for p in params])
    theta = 5.0
    returned = torch.nn.utils.clip_grad_norm_(params, theta)
    after = torch.cat([p.grad.flatten() for p in params])
    expected = flat * min(1.0, theta / flat.norm().item())
    assert float(returned) == pytest.approx(size)
    assert rel_error(after, expected) < 1e-6                    # PyTorch divides by ||g|| + 1e-6


@pytest.mark.parametrize("size", [1.0, 2.0, 3.0, 5.0, 10.0, 100.0])
def test_slide_snippet_clips_at_sqrt_threshold_to_threshold_over_norm(size):
    threshold = 5.0
    grad = size * np.array([0.6, -0.8])
    grad_norm = np.sum(grad * grad)                             # the slide's code, verbatim
    if grad_norm > threshold:
        grad *= (threshold / grad_norm)
    expected = size if size <= math.sqrt(threshold) else threshold / size
    assert np.linalg.norm(grad) == pytest.approx(expected)


def test_value_clipping_turns_the_gradient():
    g = torch.tensor([12.0, 3.0], dtype=DTYPE)
    clipped = g.clamp(-5, 5)
    angle = math.degrees(math.acos(float(g @ clipped / (g.norm() * clipped.norm()))))
    assert angle == pytest.approx(math.degrees(math.atan2(3, 5) - math.atan2(3, 12)))
    assert angle > 15
