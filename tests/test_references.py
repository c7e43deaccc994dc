"""The grader's references are honest: autograd gradients agree with centred differences (float64),
and the models of known mistakes reduce to the correct gradients when no bug is switched on."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import rel_error
from autograder.references import mistakes as mk
from autograder.references import rnn as ref

H_STEP = 1e-6
TOL = 1e-7


def numeric_vjp(fn, inputs, dout, i):
    """d<fn(inputs), dout>/d inputs[i] by centred differences; dout None means a scalar output."""
    x = inputs[i]
    grad = np.zeros_like(x)

    def f():
        out = ref.forward(fn, *inputs)
        return float(out) if dout is None else float(np.sum(out * dout))

    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + H_STEP
        plus = f()
        x[idx] = old - H_STEP
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * H_STEP)
    return grad


def rnn_inputs(rng, N=2, T=3, D=3, H=4, step=False):
    x = rng.standard_normal((N, D) if step else (N, T, D))
    return [x, rng.standard_normal((N, H)) * 0.5, rng.standard_normal((D, H)) * 0.5,
            rng.standard_normal((H, H)) * 0.4, rng.standard_normal(H) * 0.2]


CASES = {
    "rnn_step": lambda rng: (ref.rnn_step, rnn_inputs(rng, step=True), rng.standard_normal((2, 4)), (0, 1, 2, 3, 4)),
    "rnn": lambda rng: (ref.rnn, rnn_inputs(rng), rng.standard_normal((2, 3, 4)), (0, 1, 2, 3, 4)),
    "rnn_T1_N1": lambda rng: (ref.rnn, rnn_inputs(rng, N=1, T=1, D=2, H=3), rng.standard_normal((1, 1, 3)),
                              (0, 1, 2, 3, 4)),
    "word_embedding": lambda rng: (ref.word_embedding, [rng.integers(0, 4, (2, 5)), rng.standard_normal((4, 3))],
                                   rng.standard_normal((2, 5, 3)), (1,)),
    "temporal_affine": lambda rng: (ref.temporal_affine, [rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)),
                                                          rng.standard_normal(5)], rng.standard_normal((2, 3, 5)), (0, 1, 2)),
    "temporal_softmax_loss": lambda rng: (ref.temporal_softmax_loss, [rng.standard_normal((2, 3, 4)),
                                                                      rng.integers(0, 4, (2, 3)),
                                                                      rng.random((2, 3)) < 0.6], None, (0,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_autograd_reference_matches_centred_differences(name):
    fn, inputs, dout, wrt = CASES[name](np.random.default_rng(0))
    _, grads = ref.vjp(fn, inputs, dout, wrt)
    for i, g in zip(wrt, grads):
        num = numeric_vjp(fn, inputs, dout, i)
        assert rel_error(g, num) < TOL, f"{name}: gradient of input {i}"


def test_softmax_loss_reference_is_averaged_over_N_and_masked():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 2, 4)), rng.integers(0, 4, (3, 2))
    mask = np.array([[True, False], [True, True], [False, False]])
    loss = float(ref.forward(ref.temporal_softmax_loss, x, y, mask))
    logp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    expected = -sum(logp[n, t, y[n, t]] for n in range(3) for t in range(2) if mask[n, t]) / 3
    assert abs(loss - expected) < 1e-12


def test_sampling_reference_follows_the_stated_convention():
    rng = np.random.default_rng(2)
    V, D, H = 6, 3, 4
    params = {"W_embed": rng.standard_normal((V, D)), "Wx": rng.standard_normal((D, H)),
              "Wh": rng.standard_normal((H, H)) * 0.3, "b": rng.standard_normal(H),
              "W_out": rng.standard_normal((H, V)), "b_out": rng.standard_normal(V)}
    h0 = rng.standard_normal(H)
    greedy = ref.sample_chars(params, h0, 2, 5, 0.0, None)
    assert greedy.dtype == np.int64 and greedy.shape == (5,)
    p = ref.first_step_probs(params, h0, 2, 0.7)
    assert abs(p.sum() - 1) < 1e-12
    first = ref.sample_chars(params, h0, 2, 1, 0.7, np.random.default_rng(9))[0]
    assert first == np.random.default_rng(9).choice(V, p=p)
    assert np.array_equal(ref.sample_chars(params, h0[None], 2, 5, 0.0, None), greedy)  # h0 (1, H) too
    # the mistake model without its bug is the same sampler
    assert np.array_equal(mk.sample_variant(params, h0, 2, 6, 0.7, np.random.default_rng(4)),
                          ref.sample_chars(params, h0, 2, 6, 0.7, np.random.default_rng(4)))


def test_mistake_models_without_a_bug_equal_autograd():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = rnn_inputs(rng, N=2, T=4, D=3, H=5)
    dh = rng.standard_normal((2, 4, 5))
    _, grads = ref.vjp(ref.rnn, [x, h0, Wx, Wh, b], dh, (0, 1, 2, 3, 4))
    for mine, theirs in zip(mk.rnn_backward_variant(x, h0, Wx, Wh, b, dh), grads):
        assert rel_error(mine, theirs) < TOL
    assert rel_error(mk.rnn_forward_variant(x, h0, Wx, Wh, b), ref.forward(ref.rnn, x, h0, Wx, Wh, b)) < TOL
    y, mask = rng.integers(0, 5, (2, 4)), rng.random((2, 4)) < 0.5
    loss, (dx,) = ref.vjp(ref.temporal_softmax_loss, [dh, y, mask], None, (0,))
    my_loss, my_dx = mk.softmax_loss_variant(dh, y, mask)
    assert abs(my_loss - float(loss)) < 1e-12 and rel_error(my_dx, dx) < TOL
