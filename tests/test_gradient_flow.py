"""rnn_helpers.gradient_flow: the Jacobian norms behind chapter 4's figure, and its widget.

The norms are checked against closed forms (a linear RNN with an orthogonal W_h gives exactly
radius**(T - t)), against explicit Jacobian products, and against the bounds of chapter 4
(eq-power-bounds, eq-tanh-bound). The widget is driven the way a reader drives it: set a control's
value and check that the observer redrew the curve for the new settings.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_helpers.gradient_flow import (GradientFlowWidget, gradient_flow_widget, jacobian_norms,
                                       plot_gradient_flow, recurrent_matrix)

T = 30
LAG = np.arange(T)[::-1]          # T - t for t = 1..T


def test_shape_and_last_entry():
    norms = jacobian_norms(0.9, 8, "tanh", T=T)
    assert norms.shape == (T,) and norms.dtype == np.float64
    assert norms[-1] == pytest.approx(1.0)                      # dh_T/dh_T is the identity


@pytest.mark.parametrize("radius", [0.7, 1.0, 1.3])
def test_linear_orthogonal_is_exactly_radius_to_the_distance(radius):
    np.testing.assert_allclose(jacobian_norms(radius, 16, "linear", T=T), radius**LAG, rtol=1e-10)


def test_linear_grows_above_one_and_decays_below():
    grow, decay = jacobian_norms(1.2, 16, "linear", T=T), jacobian_norms(0.8, 16, "linear", T=T)
    assert np.all(np.diff(grow) < 0) and grow[0] > 1e2          # larger the further back
    assert np.all(np.diff(decay) > 0) and decay[0] < 1e-2


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_tanh_never_exceeds_linear_at_the_same_matrix(radius):
    """eq-tanh-bound: tanh' <= 1, so for an orthogonal W_h the tanh curve lies under radius**(T-t)."""
    tanh = jacobian_norms(radius, 16, "tanh", T=T)
    linear = jacobian_norms(radius, 16, "linear", T=T)
    assert np.all(tanh <= linear * (1 + 1e-10))


@pytest.mark.parametrize("radius", [0.95, 1.05])
def test_gaussian_matrix_lies_between_the_spectral_radius_and_norm_bounds(radius):
    """eq-power-bounds: rho**k <= ||W**k|| <= sigma_max**k; both tanh and linear obey the upper one."""
    W = recurrent_matrix(radius, 16, "gaussian")
    assert torch.linalg.eigvals(W).abs().max().item() == pytest.approx(radius)
    sigma = torch.linalg.matrix_norm(W, ord=2).item()
    assert sigma > radius                                       # a Gaussian matrix is not normal
    linear = jacobian_norms(radius, 16, "linear", T=T, matrix="gaussian")
    tanh = jacobian_norms(radius, 16, "tanh", T=T, matrix="gaussian")
    assert np.all(radius**LAG * (1 - 1e-9) <= linear) and np.all(linear <= sigma**LAG * (1 + 1e-9))
    assert np.all(tanh <= sigma**LAG * (1 + 1e-9))


def test_norms_equal_an_explicit_jacobian_product():
    """eq-rnn-jacobian-product, for the same weights, inputs and h_0 the helper uses (same seed)."""
    from rnn_helpers import gradient_flow as gf

    H, seed = 6, 4
    hs = [h.detach() for h in gf._run(1.1, H, "tanh", T, seed, "orthogonal")]
    Wh = recurrent_matrix(1.1, H, "orthogonal", seed)
    J, expected = torch.eye(H, dtype=torch.float64), [1.0]
    for k in range(T - 1, 0, -1):                               # multiply in dh_{k+1}/dh_k (0-based hs)
        J = J @ torch.diag(1 - hs[k] ** 2) @ Wh.T
        expected.append(torch.linalg.matrix_norm(J, ord=2).item())
    np.testing.assert_allclose(jacobian_norms(1.1, H, "tanh", T=T, seed=seed), expected[::-1], rtol=1e-10)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="nonlinearity"):
        jacobian_norms(1.0, 4, "relu")
    with pytest.raises(ValueError, match="matrix"):
        jacobian_norms(1.0, 4, "tanh", matrix="identity")


def test_plot_draws_the_norms_against_the_distance():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    line = plot_gradient_flow(ax, 0.9, 8, "tanh", T)
    np.testing.assert_array_equal(line.get_xdata(), LAG)
    np.testing.assert_allclose(line.get_ydata(), jacobian_norms(0.9, 8, "tanh", T=T))
    assert ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def _line_matches(controller: GradientFlowWidget):
    expected = jacobian_norms(controller.scale.value, controller.hidden_size.value,
                              controller.nonlinearity.value, T=controller.T)
    np.testing.assert_allclose(controller.line.get_ydata(), expected)


def test_widget_redraws_when_a_reader_moves_the_controls():
    panel = gradient_flow_widget(scale=1.0, hidden_size=8, nonlinearity="tanh", T=T)
    controller = panel.controller
    assert controller.scale.min == 0.5 and controller.scale.max == 1.5
    _line_matches(controller)
    first = controller.line.get_ydata().copy()

    controller.scale.value = 1.3                                # the observer fires on a value change
    _line_matches(controller)
    assert not np.allclose(controller.line.get_ydata(), first)

    controller.nonlinearity.value = "linear"
    _line_matches(controller)
    np.testing.assert_allclose(controller.line.get_ydata(), 1.3**LAG, rtol=1e-10)

    controller.hidden_size.value = 12
    _line_matches(controller)
    assert len(controller.ax.lines) == 2                        # the curve and the guide, not a pile of old curves


def test_widget_callback_can_be_called_directly():
    controller = GradientFlowWidget(scale=0.8, hidden_size=4, nonlinearity="linear", T=T)
    controller.scale.unobserve(controller.update, names="value")
    controller.scale.value = 1.2                                # no observer: the figure is stale
    np.testing.assert_allclose(controller.line.get_ydata(), 0.8**LAG, rtol=1e-10)
    controller.update({"name": "value", "new": 1.2})
    np.testing.assert_allclose(controller.line.get_ydata(), 1.2**LAG, rtol=1e-10)
