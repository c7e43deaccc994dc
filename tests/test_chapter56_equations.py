"""Numerical checks of the equations in book chapters 5 (LSTM) and 6 (GRU and variants).

Each test restates one equation of the pages in torch float64 and compares it with a PyTorch
module or with autograd at a relative error below 1e-10. No book build, no solution code (the
graded NumPy functions live only in the assignment notebooks); runs in about a second.
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


@pytest.fixture(autouse=True)
def float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    yield
    torch.set_default_dtype(old)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(56)


def randn(*shape, gen, scale=1.0):
    return scale * torch.randn(*shape, generator=gen, dtype=DTYPE)


# ---------------------------------------------------------------- chapter 5: the LSTM

def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
    """eq-lstm-gates and eq-lstm-cell: blocks i, f, o, g; Wx (D, 4H), Wh (H, 4H), b (4H,)."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.sigmoid(a[:, 2 * H:3 * H])
    g = torch.tanh(a[:, 3 * H:])
    c = f * c_prev + i * g
    return o * torch.tanh(c), c, (i, f, o, g)


def to_torch_order(H):
    """P swaps the o and g blocks: ours i, f, o, g <-> PyTorch's i, f, g, o (notation.md)."""
    return torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])


def lstm_weights(D, H, gen):
    return randn(D, 4 * H, gen=gen), randn(H, 4 * H, gen=gen, scale=0.5), randn(4 * H, gen=gen)


def test_lstm_step_equations_match_nn_lstmcell_with_converted_weights(gen):
    N, D, H = 3, 4, 5
    Wx, Wh, b = lstm_weights(D, H, gen)
    x, h_prev, c_prev = randn(N, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen)
    h, c, _ = lstm_step(x, h_prev, c_prev, Wx, Wh, b)
    P = to_torch_order(H)
    cell = torch.nn.LSTMCell(D, H).to(DTYPE)
    with torch.no_grad():
        cell.weight_ih.copy_(Wx[:, P].T)
        cell.weight_hh.copy_(Wh[:, P].T)
        cell.bias_ih.copy_(b[P] - 0.25)          # the two biases add: split b arbitrarily
        cell.bias_hh.fill_(0.25)
        h_ref, c_ref = cell(x, (h_prev, c_prev))
    assert rel_error(h, h_ref) < TOL
    assert rel_error(c, c_ref) < TOL


def test_lstm_sequence_matches_batch_first_nn_lstm_and_converts_back(gen):
    N, T, D, H = 2, 7, 3, 4
    lstm = torch.nn.LSTM(D, H, batch_first=True).to(DTYPE)
    P = to_torch_order(H)
    with torch.no_grad():
        Wx, Wh = lstm.weight_ih_l0.T[:, P], lstm.weight_hh_l0.T[:, P]      # P is its own inverse
        b = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[P]
        x, h0, c0 = randn(N, T, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen)
        ref, (hT, cT) = lstm(x, (h0[None], c0[None]))
        h, c, hs = h0, c0, []
        for t in range(T):
            h, c, _ = lstm_step(x[:, t], h, c, Wx, Wh, b)
            hs.append(h)
    assert rel_error(torch.stack(hs, dim=1), ref) < TOL
    assert rel_error(c, cT[0]) < TOL


def test_lstm_step_backward_equations_match_autograd(gen):
    """eq-lstm-backward-cell, -gates, -preact, -params against autograd."""
    N, D, H = 3, 4, 5
    leaves = [randn(N, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen), *lstm_weights(D, H, gen)]
    x, h_prev, c_prev, Wx, Wh, b = [t.requires_grad_() for t in leaves]
    h, c, (i, f, o, g) = lstm_step(x, h_prev, c_prev, Wx, Wh, b)
    dnext_h, dnext_c = randn(N, H, gen=gen), randn(N, H, gen=gen)
    auto = torch.autograd.grad((h * dnext_h).sum() + (c * dnext_c).sum(), (x, h_prev, c_prev, Wx, Wh, b))
    with torch.no_grad():
        tc = torch.tanh(c)
        do = dnext_h * tc
        dc = dnext_c + dnext_h * o * (1 - tc**2)
        df, di, dg, dprev_c = dc * c_prev, dc * g, dc * i, dc * f
        da = torch.cat([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)], dim=1)
        ours = (da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, h_prev.T @ da, da.sum(0))
    for name, mine, theirs in zip(["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"], ours, auto):
        assert rel_error(mine, theirs) < TOL, name


def test_backward_without_the_h_contribution_to_dc_is_wrong(gen):
    """The classic mistake: delta_c = dnext_c only (forgetting dh * o * (1 - tanh^2 c))."""
    N, D, H = 2, 3, 4
    leaves = [randn(N, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen), *lstm_weights(D, H, gen)]
    x, h_prev, c_prev, Wx, Wh, b = [t.requires_grad_() for t in leaves]
    h, c, (i, f, o, g) = lstm_step(x, h_prev, c_prev, Wx, Wh, b)
    dnext_h, dnext_c = randn(N, H, gen=gen), randn(N, H, gen=gen)
    (auto_dc_prev,) = torch.autograd.grad((h * dnext_h).sum() + (c * dnext_c).sum(), c_prev)
    assert rel_error((dnext_c * f).detach(), auto_dc_prev) > 1e-2


def test_cell_jacobian_direct_path_and_full_formula(gen):
    """eq-lstm-direct-path (diag f with the gates fixed) and eq-lstm-cell-jacobian (through h_{t-1})."""
    D, H = 3, 4
    Wx, Wh, b = lstm_weights(D, H, gen)
    x, c_prev, o_prev = randn(1, D, gen=gen), randn(1, H, gen=gen), torch.rand(1, H, generator=gen, dtype=DTYPE)

    def step(c_prev_row):
        h_prev = o_prev * torch.tanh(c_prev_row)
        return lstm_step(x, h_prev, c_prev_row, Wx, Wh, b)[1]

    J = torch.autograd.functional.jacobian(step, c_prev)[0, :, 0, :]          # (H, H)
    _, _, (i, f, o, g) = lstm_step(x, o_prev * torch.tanh(c_prev), c_prev, Wx, Wh, b)
    i, f, g, cp, op = i[0], f[0], g[0], c_prev[0], o_prev[0]
    Wh_i, Wh_f, Wh_g = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 3 * H:]
    formula = torch.diag(f) + (torch.diag(cp * f * (1 - f)) @ Wh_f.T + torch.diag(g * i * (1 - i)) @ Wh_i.T
                               + torch.diag(i * (1 - g**2)) @ Wh_g.T) @ torch.diag(op * (1 - torch.tanh(cp)**2))
    assert rel_error(formula, J) < TOL
    direct = torch.autograd.functional.jacobian(lambda c: f * c + i * g, cp)
    assert rel_error(direct, torch.diag(f)) < TOL
    assert (J - torch.diag(f)).norm() > 1e-3                                  # the gate terms are real


def test_forget_bias_in_nn_lstm_is_the_second_block_of_both_biases():
    H = 6
    lstm = torch.nn.LSTM(3, H, batch_first=True).to(DTYPE)
    with torch.no_grad():
        for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0):
            p.zero_()
        lstm.bias_ih_l0[H:2 * H] = 1.0
        c0 = torch.ones(1, 1, H)
        _, (_, c1) = lstm(torch.zeros(1, 1, 3), (torch.zeros(1, 1, H), c0))
    # zero weights: i = o = sigmoid(0), g = 0, so c_1 = f * c_0 = sigmoid(1)
    assert rel_error(c1, torch.sigmoid(torch.tensor(1.0)).expand(1, 1, H)) < TOL


# ---------------------------------------------------------------- chapter 6: variants

def peephole_step(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """eq-peephole: diagonal peepholes; i and f see c_{t-1}, o sees c_t."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = torch.sigmoid(a[:, :H] + c_prev * p_i)
    f = torch.sigmoid(a[:, H:2 * H] + c_prev * p_f)
    c = f * c_prev + i * torch.tanh(a[:, 3 * H:])
    o = torch.sigmoid(a[:, 2 * H:3 * H] + c * p_o)
    return o * torch.tanh(c), c


def test_peephole_cell_shapes_and_zero_peepholes_give_the_lstm(gen):
    N, D, H = 3, 4, 5
    Wx, Wh, b = lstm_weights(D, H, gen)
    x, h_prev, c_prev = randn(N, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen)
    h, c = peephole_step(x, h_prev, c_prev, Wx, Wh, b, *(randn(H, gen=gen) for _ in range(3)))
    assert h.shape == c.shape == (N, H)
    h0, c0 = peephole_step(x, h_prev, c_prev, Wx, Wh, b, *(torch.zeros(H) for _ in range(3)))
    h_ref, c_ref, _ = lstm_step(x, h_prev, c_prev, Wx, Wh, b)
    assert rel_error(h0, h_ref) < TOL and rel_error(c0, c_ref) < TOL
    assert rel_error(h, h_ref) > 1e-3


def test_coupled_gates_cell_is_the_lstm_with_input_gate_one_minus_forget(gen):
    """eq-coupled with three blocks (f, o, g) equals the LSTM's cell with i replaced by 1 - f."""
    N, D, H = 3, 4, 5
    Wx, Wh, b = lstm_weights(D, H, gen)
    x, h_prev, c_prev = randn(N, D, gen=gen), randn(N, H, gen=gen), randn(N, H, gen=gen)
    a3 = x @ Wx[:, H:] + h_prev @ Wh[:, H:] + b[H:]                           # (N, 3H), blocks f, o, g
    f, o, g = torch.sigmoid(a3[:, :H]), torch.sigmoid(a3[:, H:2 * H]), torch.tanh(a3[:, 2 * H:])
    c = f * c_prev + (1 - f) * g
    h = o * torch.tanh(c)
    assert a3.shape == (N, 3 * H) and h.shape == c.shape == (N, H)
    _, _, (i4, f4, o4, g4) = lstm_step(x, h_prev, c_prev, Wx, Wh, b)
    c_tied = f4 * c_prev + (1 - f4) * g4
    assert rel_error(c, c_tied) < TOL and rel_error(h, o4 * torch.tanh(c_tied)) < TOL


def gru_torch_style(x, h, w_ih, w_hh, b_ih, b_hh):
    """eq-gru-pytorch: rows r, z, n; reset after the recurrent product; z weights the old state."""
    H = h.shape[1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h


def gru_lecture(x, h, Wx, Wh, b):
    """eq-gru: blocks z, r, n; reset before the recurrent product; z weights the new candidate."""
    H = h.shape[1]
    z = torch.sigmoid(x @ Wx[:, :H] + h @ Wh[:, :H] + b[:H])
    r = torch.sigmoid(x @ Wx[:, H:2 * H] + h @ Wh[:, H:2 * H] + b[H:2 * H])
    cand = torch.tanh(x @ Wx[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:] + b[2 * H:])
    return (1 - z) * h + z * cand


def lecture_weights_from_torch(w_ih, w_hh, b_ih, b_hh):
    H = w_hh.shape[1]
    r, z, n = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
    Wx = torch.cat([-w_ih[z].T, w_ih[r].T, w_ih[n].T], dim=1)
    Wh = torch.cat([-w_hh[z].T, w_hh[r].T, w_hh[n].T], dim=1)
    return Wx, Wh, torch.cat([-(b_ih[z] + b_hh[z]), b_ih[r] + b_hh[r], b_ih[n]])


def test_torch_style_gru_formula_matches_nn_grucell(gen):
    N, D, H = 4, 3, 5
    cell = torch.nn.GRUCell(D, H).to(DTYPE)
    x, h = randn(N, D, gen=gen), randn(N, H, gen=gen)
    with torch.no_grad():
        ours = gru_torch_style(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        assert rel_error(ours, cell(x, h)) < TOL


def test_torch_style_gru_sequence_matches_batch_first_nn_gru(gen):
    N, T, D, H = 2, 9, 3, 4
    gru = torch.nn.GRU(D, H, batch_first=True).to(DTYPE)
    x, h = randn(N, T, D, gen=gen), randn(N, H, gen=gen)
    with torch.no_grad():
        ref, _ = gru(x, h[None])
        hs = []
        for t in range(T):
            h = gru_torch_style(x[:, t], h, gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
            hs.append(h)
    assert rel_error(torch.stack(hs, dim=1), ref) < TOL


def test_lecture_gru_differs_from_nn_gru_in_general(gen):
    N, D, H = 4, 3, 5
    cell = torch.nn.GRUCell(D, H).to(DTYPE)
    x, h = randn(N, D, gen=gen), torch.tanh(randn(N, H, gen=gen))
    with torch.no_grad():
        lecture = gru_lecture(x, h, *lecture_weights_from_torch(cell.weight_ih, cell.weight_hh,
                                                                  cell.bias_ih, cell.bias_hh))
        assert (lecture - cell(x, h)).abs().max() > 1e-3
        # b_hn = 0 alone is not enough: the reset gate still multiplies before vs after W_hn
        cell.bias_hh[2 * H:] = 0.0
        lecture = gru_lecture(x, h, *lecture_weights_from_torch(cell.weight_ih, cell.weight_hh,
                                                                  cell.bias_ih, cell.bias_hh))
        assert (lecture - cell(x, h)).abs().max() > 1e-3


def test_lecture_gru_equals_nn_gru_when_w_hn_is_diagonal_and_b_hn_is_zero(gen):
    N, D, H = 4, 3, 5
    cell = torch.nn.GRUCell(D, H).to(DTYPE)
    x, h = randn(N, D, gen=gen), torch.tanh(randn(N, H, gen=gen))
    with torch.no_grad():
        cell.weight_hh[2 * H:] = torch.diag(randn(H, gen=gen))
        cell.bias_hh[2 * H:] = 0.0
        lecture = gru_lecture(x, h, *lecture_weights_from_torch(cell.weight_ih, cell.weight_hh,
                                                                  cell.bias_ih, cell.bias_hh))
        assert rel_error(lecture, cell(x, h)) < TOL


def test_reset_before_and_after_the_product_agree_only_for_diagonal_matrices(gen):
    N, H = 3, 5
    r, h = torch.rand(N, H, generator=gen, dtype=DTYPE), randn(N, H, gen=gen)
    W = randn(H, H, gen=gen)
    assert (((r * h) @ W) - r * (h @ W)).abs().max() > 1e-3
    Wd = torch.diag(torch.diagonal(W))
    assert rel_error((r * h) @ Wd, r * (h @ Wd)) < TOL


def test_update_gate_relabelling_by_negation(gen):
    a = randn(100, gen=gen, scale=5.0)
    assert rel_error(1 - torch.sigmoid(a), torch.sigmoid(-a)) < TOL


def test_mut_architectures_are_well_defined_when_input_size_equals_hidden_size(gen):
    """eq-mut1..3 in row form: one step maps (N, H) to (N, H); MUT1 and MUT2 need D = H."""
    N, H = 4, 6
    x, h = randn(N, H, gen=gen), torch.tanh(randn(N, H, gen=gen))
    W = {k: randn(H, H, gen=gen, scale=0.5) for k in ("xz", "hz", "xr", "hr", "hh", "xh")}
    sig = torch.sigmoid

    def blend(cand, z):
        return cand * z + h * (1 - z)

    mut1 = blend(torch.tanh((sig(x @ W["xr"] + h @ W["hr"]) * h) @ W["hh"] + torch.tanh(x)), sig(x @ W["xz"]))
    mut2 = blend(torch.tanh((sig(x + h @ W["hr"]) * h) @ W["hh"] + x @ W["xh"]), sig(x @ W["xz"] + h @ W["hz"]))
    mut3 = blend(torch.tanh((sig(x @ W["xr"] + h @ W["hr"]) * h) @ W["hh"] + x @ W["xh"]),
                 sig(x @ W["xz"] + torch.tanh(h) @ W["hz"]))
    for out in (mut1, mut2, mut3):
        assert out.shape == (N, H) and torch.isfinite(out).all()
        assert out.abs().max() < 1.0                  # convex blend of two vectors in (-1, 1)
    with pytest.raises(RuntimeError):
        randn(N, H + 1, gen=gen) + h                  # D != H: adding x to a hidden-sized vector fails


@pytest.mark.parametrize("module, gates", [(torch.nn.RNN, 1), (torch.nn.LSTM, 4), (torch.nn.GRU, 3)])
def test_parameter_counts_of_the_table(module, gates):
    D, H = 32, 64
    count = sum(p.numel() for p in module(D, H).parameters())
    assert count == gates * (D * H + H * H + 2 * H)    # PyTorch keeps two bias vectors
