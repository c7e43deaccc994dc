"""Numerical checks of the equations derived in book chapters 1-3, independent of the pages.

Each test restates one derivation in torch float64 and compares it with autograd (or an exact
identity) at a relative error below 1e-10. No book build, no solution code; runs in about a second.
"""

from __future__ import annotations

import pytest
import torch

TOL = 1e-10
DTYPE = torch.float64


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest element-wise relative error max |a - b| / max(|a| + |b|, 1e-12)."""
    a, b = torch.as_tensor(a, dtype=DTYPE), torch.as_tensor(b, dtype=DTYPE)
    assert a.shape == b.shape, f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}"
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp_min(1e-12)).max())


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


def randn(*shape, gen, scale=1.0):
    return scale * torch.randn(*shape, generator=gen, dtype=DTYPE)


# ---------------------------------------------------------------- chapter 1: gradients add at branches

def test_shared_parameter_gradient_is_the_sum_of_the_partial_derivatives():
    """df/dt with w1 = t = w2 equals df/dw1 + df/dw2 (eq-shared-gradient-sum), and a finite difference."""

    def f(w1, w2):
        return w1 * torch.sin(w2) + w1**2 * w2 + torch.exp(w1 * w2)

    for t0 in (-1.3, 0.2, 0.7, 2.1):
        t = torch.tensor(t0, dtype=DTYPE, requires_grad=True)
        (shared,) = torch.autograd.grad(f(t, t), t)
        w1 = torch.tensor(t0, dtype=DTYPE, requires_grad=True)
        w2 = torch.tensor(t0, dtype=DTYPE, requires_grad=True)
        d1, d2 = torch.autograd.grad(f(w1, w2), (w1, w2))
        assert rel_error(shared, d1 + d2) < TOL
        eps = 1e-5
        fd = (f(torch.tensor(t0 + eps, dtype=DTYPE), torch.tensor(t0 + eps, dtype=DTYPE))
              - f(torch.tensor(t0 - eps, dtype=DTYPE), torch.tensor(t0 - eps, dtype=DTYPE))) / (2 * eps)
        assert rel_error(shared, fd) < 1e-8   # centred difference: truncation error ~eps^2


def test_chain_rule_with_general_inner_functions():
    """df/dt = df/dw1 dw1/dt + df/dw2 dw2/dt (eq-chain-rule-branch) for w1(t) = t^2, w2(t) = cos t."""
    t = torch.tensor(0.9, dtype=DTYPE, requires_grad=True)
    w1, w2 = t**2, torch.cos(t)
    f = w1 * torch.sin(w2) + w1**2 * w2
    (total,) = torch.autograd.grad(f, t, retain_graph=True)
    df_dw1, df_dw2 = torch.autograd.grad(f, (w1, w2))
    assert rel_error(total, df_dw1 * 2 * t.detach() + df_dw2 * (-torch.sin(t.detach()))) < TOL


def test_rnn_parameter_count_does_not_grow_with_sequence_length():
    """One module reads every length with D H + H^2 + 2H parameters (PyTorch keeps two biases)."""
    rnn = torch.nn.RNN(input_size=8, hidden_size=16, batch_first=True)
    assert sum(p.numel() for p in rnn.parameters()) == 8 * 16 + 16 * 16 + 2 * 16
    for T in (3, 50, 200):
        out, _ = rnn(torch.randn(2, T, 8))
        assert out.shape == (2, T, 16)


# ---------------------------------------------------------------- chapter 2: the vanilla RNN

def test_stacked_form_equals_two_matrix_form_and_row_form(gen):
    """tanh(W_hh h + W_xh x + b) = tanh([W_hh W_xh][h; x] + b) = tanh(x Wx + h Wh + b) (eq-elman-stacked)."""
    H, D, N = 5, 3, 4
    W_hh, W_xh, b = randn(H, H, gen=gen), randn(H, D, gen=gen), randn(H, gen=gen)
    h, x = randn(N, H, gen=gen), randn(N, D, gen=gen)           # a batch, as rows
    two = torch.tanh(h @ W_hh.T + x @ W_xh.T + b)
    W = torch.cat([W_hh, W_xh], dim=1)                           # (H, H + D)
    stacked = torch.tanh(torch.cat([h, x], dim=1) @ W.T + b)
    column = torch.stack([torch.tanh(W_hh @ h[n] + W_xh @ x[n] + b) for n in range(N)])
    assert W.shape == (H, H + D)
    assert rel_error(two, stacked) < TOL
    assert rel_error(two, column) < TOL


def test_hello_loss_is_minus_log_probability_of_the_targets(gen):
    """For "hello", the summed cross-entropy (eq-lm-loss) equals -sum log p(target) = -log P(ello | h)."""
    vocab = "helo"
    idx = [vocab.index(c) for c in "hello"]
    inputs, targets = idx[:-1], idx[1:]
    V, H = 4, 3
    W_xh, W_hh, W_hy = randn(H, V, gen=gen), randn(H, H, gen=gen), randn(V, H, gen=gen)
    b_h, b_y = randn(H, gen=gen), randn(V, gen=gen)
    h = torch.zeros(H, dtype=DTYPE)
    scores = []
    for i in inputs:
        x = torch.nn.functional.one_hot(torch.tensor(i), V).to(DTYPE)
        h = torch.tanh(W_hh @ h + W_xh @ x + b_h)
        scores.append(W_hy @ h + b_y)
    scores = torch.stack(scores)                                   # (T, V)
    ce = torch.nn.functional.cross_entropy(scores, torch.tensor(targets), reduction="sum")
    probs = torch.softmax(scores, dim=1)
    p_targets = probs[torch.arange(len(targets)), torch.tensor(targets)]
    assert rel_error(ce, -torch.log(p_targets).sum()) < TOL
    assert rel_error(ce, -torch.log(p_targets.prod())) < TOL
    assert torch.allclose(probs.sum(1), torch.ones(len(targets), dtype=DTYPE), atol=1e-14, rtol=0)


def test_slide_scores_give_the_slide_softmax():
    p = torch.softmax(torch.tensor([1.0, 2.2, -3.0, 4.1], dtype=DTYPE), dim=0)
    # the slide prints .03 .13 .00 .84; only the first value (0.038) is not rounded to nearest
    assert [round(v, 2) for v in p.tolist()] == [0.04, 0.13, 0.0, 0.84]
    assert 0.03 < p[0] < 0.04


def test_one_hot_times_embedding_selects_a_row(gen):
    V, D = 6, 4
    W_embed = randn(V, D, gen=gen)
    for i in range(V):
        one_hot = torch.nn.functional.one_hot(torch.tensor(i), V).to(DTYPE)
        assert torch.equal(one_hot @ W_embed, W_embed[i])


def test_temperature_limits():
    """softmax(y / tau) -> one-hot argmax as tau -> 0, -> uniform as tau -> inf (eq-softmax-temperature)."""
    y = torch.tensor([1.0, 2.2, -3.0, 4.1], dtype=DTYPE)
    cold = torch.softmax(y / 1e-3, dim=0)
    assert rel_error(cold, torch.nn.functional.one_hot(y.argmax(), 4).to(DTYPE)) < TOL
    hot = torch.softmax(y / 1e12, dim=0)
    assert rel_error(hot, torch.full((4,), 0.25, dtype=DTYPE)) < TOL
    assert rel_error(torch.softmax(y / 1.0, dim=0), torch.softmax(y, dim=0)) < TOL
    # the distribution flattens monotonically: entropy grows with the temperature
    entropies = [float(-(p * p.log()).sum()) for p in (torch.softmax(y / t, 0) for t in (0.5, 1.0, 2.0, 10.0))]
    assert entropies == sorted(entropies)


# ---------------------------------------------------------------- chapter 3: BPTT

def _small_rnn(gen, N=2, T=4, D=3, H=5, V=6):
    params = dict(Wx=randn(D, H, gen=gen), Wh=randn(H, H, gen=gen, scale=0.7), b=randn(H, gen=gen, scale=0.1),
                  W_out=randn(H, V, gen=gen), b_out=randn(V, gen=gen, scale=0.1))
    x, h0 = randn(N, T, D, gen=gen), randn(N, H, gen=gen, scale=0.5)
    y = torch.randint(0, V, (N, T), generator=gen)
    return params, x, h0, y


def _forward(params, x, h0, y):
    """Course row form (eq-bptt-forward); loss summed over time, averaged over the batch."""
    N, T, _ = x.shape
    hs, h = [], h0
    for t in range(T):
        h = torch.tanh(x[:, t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        hs.append(h)
    scores = torch.stack(hs, 1) @ params["W_out"] + params["b_out"]           # (N, T, V)
    loss = torch.nn.functional.cross_entropy(scores.reshape(N * T, -1), y.reshape(-1), reduction="sum") / N
    return hs, scores, loss


def test_bptt_recursion_equals_autograd(gen):
    """eq-bptt-recursion, -tanh, -weights and -inputs, for T = 4 in float64, against autograd."""
    params, x, h0, y = _small_rnn(gen)
    N, T, _ = x.shape
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    xg, h0g = x.clone().requires_grad_(True), h0.clone().requires_grad_(True)
    _, _, loss = _forward(leaves, xg, h0g, y)
    names = ["Wx", "Wh", "b", "W_out", "b_out"]
    auto = dict(zip(names + ["x", "h0"], torch.autograd.grad(loss, [leaves[k] for k in names] + [xg, h0g])))

    with torch.no_grad():
        hs, scores, _ = _forward(params, x, h0, y)
        dscores = (torch.softmax(scores, -1) - torch.nn.functional.one_hot(y, scores.shape[-1]).to(DTYPE)) / N
        own = dscores @ params["W_out"].T                                   # dL_t/dh_t, (N, T, H)
        grads = {k: torch.zeros_like(v) for k, v in params.items()}
        grads["W_out"] = torch.einsum("nth,ntv->hv", torch.stack(hs, 1), dscores)
        grads["b_out"] = dscores.sum((0, 1))
        dx = torch.zeros_like(x)
        from_next = torch.zeros_like(h0)
        for t in reversed(range(T)):
            dh = own[:, t] + from_next                                       # eq-bptt-recursion
            da = dh * (1 - hs[t] ** 2)                                       # eq-bptt-tanh (from the output)
            h_prev = hs[t - 1] if t > 0 else h0
            grads["Wh"] += h_prev.T @ da                                     # eq-bptt-weights
            grads["Wx"] += x[:, t].T @ da
            grads["b"] += da.sum(0)
            dx[:, t] = da @ params["Wx"].T                                   # eq-bptt-inputs
            from_next = da @ params["Wh"].T
    for k in names:
        assert rel_error(grads[k], auto[k]) < TOL, k
    assert rel_error(dx, auto["x"]) < TOL
    assert rel_error(from_next, auto["h0"]) < TOL


def test_tanh_derivative_from_the_preactivation_is_wrong(gen):
    """The classic mistake 1 - a^2 (instead of 1 - h^2) gives a clearly different gradient."""
    a = randn(10, gen=gen, scale=1.5).requires_grad_(True)
    (auto,) = torch.autograd.grad(torch.tanh(a).sum(), a)
    h = torch.tanh(a.detach())
    assert rel_error(1 - h**2, auto) < TOL
    assert rel_error(1 - a.detach() ** 2, auto) > 0.1


def test_sum_over_k_formula_equals_autograd(gen):
    """UvA: dL_3/dW = sum_k dL_3/dc_3 (prod_j diag(1 - c_j^2) W) d+c_k/dW (eq-bptt-sum-over-k)."""
    H, D, V, T = 4, 3, 5, 3
    U, W, Vout = randn(H, D, gen=gen), randn(H, H, gen=gen, scale=0.8), randn(V, H, gen=gen)
    xs, c0 = randn(T, D, gen=gen), randn(H, gen=gen, scale=0.5)
    target = 2
    Wg = W.clone().requires_grad_(True)
    c = [c0]
    for t in range(T):
        c.append(torch.tanh(U @ xs[t] + Wg @ c[-1]))
    loss = -torch.log_softmax(Vout @ c[T], 0)[target]
    (auto,) = torch.autograd.grad(loss, Wg)

    with torch.no_grad():
        c = [ci.detach() for ci in c]
        l_T = torch.nn.functional.one_hot(torch.tensor(target), V).to(DTYPE)
        dL_dcT = (torch.softmax(Vout @ c[T], 0) - l_T) @ Vout                   # (H,)
        total = torch.zeros(H, H, dtype=DTYPE)
        for k in range(1, T + 1):
            jac = torch.eye(H, dtype=DTYPE)                                     # dc_T/dc_k
            for j in range(T, k, -1):                                           # j = T .. k+1, later on the left
                jac = jac @ (torch.diag(1 - c[j] ** 2) @ W)
            immediate = torch.einsum("i,ip,q->ipq", 1 - c[k] ** 2, torch.eye(H, dtype=DTYPE), c[k - 1])
            total += torch.einsum("i,ij,jpq->pq", dL_dcT, jac, immediate)
        assert rel_error(total, auto) < TOL

        # the one-step Jacobian is diag(1 - c_j^2) W, not W diag(1 - c_{j-1}^2)
        J = torch.autograd.functional.jacobian(lambda cp: torch.tanh(U @ xs[T - 1] + W @ cp), c[T - 1])
        assert rel_error(torch.diag(1 - c[T] ** 2) @ W, J) < TOL
        assert rel_error(W @ torch.diag(1 - c[T - 1] ** 2), J) > 0.1


def test_sum_over_paths_summed_over_losses_equals_the_recursion(gen):
    """Swapping the sums (eq-bptt-swap-sums): sum_t sum_{k<=t} ... equals the recursion for L = sum_t L_t."""
    H, D, V, T = 4, 3, 5, 4
    U, W, Vout = randn(H, D, gen=gen), randn(H, H, gen=gen, scale=0.8), randn(V, H, gen=gen)
    xs, c0 = randn(T, D, gen=gen), randn(H, gen=gen, scale=0.5)
    targets = torch.randint(0, V, (T,), generator=gen)
    c = [c0]
    for t in range(T):
        c.append(torch.tanh(U @ xs[t] + W @ c[-1]))
    own = [None] + [(torch.softmax(Vout @ c[t], 0)
                     - torch.nn.functional.one_hot(targets[t - 1], V).to(DTYPE)) @ Vout for t in range(1, T + 1)]
    step_jac = [None] + [torch.diag(1 - c[j] ** 2) @ W for j in range(1, T + 1)]       # dc_j/dc_{j-1}

    def immediate_term(g, k):                     # g (H,) times d+c_k/dW, as an outer product
        return torch.outer(g * (1 - c[k] ** 2), c[k - 1])

    double_sum = torch.zeros(H, H, dtype=DTYPE)
    for t in range(1, T + 1):
        for k in range(1, t + 1):
            g = own[t]
            for j in range(t, k, -1):
                g = g @ step_jac[j]
            double_sum += immediate_term(g, k)

    recursion = torch.zeros(H, H, dtype=DTYPE)
    g = torch.zeros(H, dtype=DTYPE)
    for k in range(T, 0, -1):
        g = own[k] + (g @ step_jac[k + 1] if k < T else 0)      # dL/dc_k = dL_k/dc_k + dL/dc_{k+1} dc_{k+1}/dc_k
        recursion += immediate_term(g, k)
    assert rel_error(double_sum, recursion) < TOL

    Wg = W.clone().requires_grad_(True)
    cc, loss = c0, 0.0
    for t in range(T):
        cc = torch.tanh(U @ xs[t] + Wg @ cc)
        loss = loss - torch.log_softmax(Vout @ cc, 0)[targets[t]]
    (auto,) = torch.autograd.grad(loss, Wg)
    assert rel_error(recursion, auto) < TOL
