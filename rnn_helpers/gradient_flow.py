"""How far back a gradient reaches in a vanilla RNN: Jacobian norms and an interactive figure.

    jacobian_norms(1.1, 32, "tanh")          # (T,) spectral norms of dh_T/dh_t, t = 1..T
    plot_gradient_flow(ax, 1.1, 32, "tanh")   # the curve against T - t, log y-axis
    gradient_flow_widget()                    # sliders for the spectral radius and H, linear/tanh

The recurrence is the book's (row vectors, eq-rnn-step), h_t = f(x_t W_x + h_{t-1} W_h + b) with
f = tanh or the identity. Every norm is computed by torch autograd in float64, never by a
hand-written Jacobian, so the figure checks the chapter's formulas instead of restating them.
"""

from __future__ import annotations

import numpy as np
import torch

NONLINEARITIES = ("linear", "tanh")
MATRICES = ("orthogonal", "gaussian")
INPUT_SIZE = 8          # D of the random inputs; it only sets where the tanh operates
INPUT_SCALE = 0.5       # std of the input drive x_t W_x per hidden unit


def recurrent_matrix(scale: float, hidden_size: int, matrix: str = "orthogonal", seed: int = 0) -> torch.Tensor:
    """A random (H, H) float64 W_h with spectral radius `scale`.

    "orthogonal": scale * Q with Q random orthogonal; then every singular value equals `scale`,
    so spectral radius and largest singular value coincide. "gaussian": a Gaussian matrix divided
    by its spectral radius, times `scale`; its largest singular value is larger than `scale`.
    """
    if matrix not in MATRICES:
        raise ValueError(f"matrix must be one of {MATRICES}, got {matrix!r}")
    gen = torch.Generator().manual_seed(seed)
    G = torch.randn(hidden_size, hidden_size, generator=gen, dtype=torch.float64)  # (H, H)
    if matrix == "orthogonal":
        Q, R = torch.linalg.qr(G)
        Q = Q * torch.sign(torch.diagonal(R))        # the sign fix makes Q uniformly distributed
        return scale * Q
    radius = torch.linalg.eigvals(G).abs().max().real
    return G * (scale / radius)


def _run(scale, hidden_size, nonlinearity, T, seed, matrix):
    """Forward pass; returns the list of hidden states h_1..h_T, each (H,), still in the graph."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    if T < 1 or hidden_size < 1:
        raise ValueError(f"T and hidden_size must be positive, got T={T}, hidden_size={hidden_size}")
    Wh = recurrent_matrix(scale, hidden_size, matrix, seed)                     # (H, H)
    gen = torch.Generator().manual_seed(seed + 1)
    Wx = torch.randn(INPUT_SIZE, hidden_size, generator=gen, dtype=torch.float64) * (
        INPUT_SCALE / INPUT_SIZE**0.5)                                            # (D, H)
    xs = torch.randn(T, INPUT_SIZE, generator=gen, dtype=torch.float64)         # (T, D)
    h = (torch.randn(hidden_size, generator=gen, dtype=torch.float64) * 0.5).requires_grad_()  # h_0, (H,)
    f = torch.tanh if nonlinearity == "tanh" else (lambda a: a)
    hs = []
    for t in range(T):
        h = f(xs[t] @ Wx + h @ Wh)                                               # (H,), eq-rnn-step
        hs.append(h)
    return hs


def jacobian_norms(scale: float, hidden_size: int, nonlinearity: str, T: int = 50, seed: int = 0,
                   matrix: str = "orthogonal") -> np.ndarray:
    """Spectral norms ||dh_T/dh_t||_2 for t = 1..T, as a (T,) float64 array (the last entry is 1).

    W_h is `recurrent_matrix(scale, hidden_size, matrix, seed)`; inputs and h_0 are random (fixed
    by `seed`). The Jacobians come from autograd: row i of dh_T/dh_t is the gradient of h_T[i]
    with respect to h_t, obtained for all i at once with batched vector-Jacobian products.
    """
    hs = _run(scale, hidden_size, nonlinearity, T, seed, matrix)
    eye = torch.eye(hidden_size, dtype=torch.float64)                           # (H, H): one VJP per row
    if T == 1:
        return np.ones(1)
    grads = torch.autograd.grad(hs[-1], hs[:-1], grad_outputs=eye, is_grads_batched=True)
    jacobians = torch.stack(list(grads) + [eye])                                # (T, H, H), [t-1] = dh_T/dh_t
    return torch.linalg.matrix_norm(jacobians, ord=2).numpy()


def plot_gradient_flow(ax, scale: float, hidden_size: int, nonlinearity: str, T: int = 50, *, seed: int = 0,
                       matrix: str = "orthogonal", label: str | None = None):
    """Draw ||dh_T/dh_t|| against the distance T - t on a log y-axis; returns the Line2D.

    A dashed grey guide shows scale**(T - t), the linear network's value for an orthogonal W_h.
    """
    norms = jacobian_norms(scale, hidden_size, nonlinearity, T, seed, matrix)
    lag = T - np.arange(1, T + 1)                                               # (T,) T - t
    (line,) = ax.plot(lag, norms, marker="o", ms=3, label=label or f"{nonlinearity}, radius {scale:g}")
    ax.plot(lag, float(scale) ** lag.astype(float), ls="--", color="grey", lw=1,
            label=f"${scale:g}^{{T-t}}$")
    ax.set_yscale("log")
    ax.set_xlabel("distance $T - t$ (steps)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_t\|_2$")
    ax.set_title(f"{nonlinearity}, spectral radius {scale:g}, H = {hidden_size}")
    ax.grid(True, which="both", alpha=0.3)
    return line


class GradientFlowWidget:
    """The interactive panel: a slider for the spectral radius, one for H, linear/tanh buttons.

    `update()` is the observer of all three controls; it recomputes the norms and redraws the
    figure into `self.output`. `self.line` is the curve, so a test can read its data.
    """

    def __init__(self, scale: float = 1.0, hidden_size: int = 32, nonlinearity: str = "tanh", T: int = 50):
        import ipywidgets as widgets
        from matplotlib.figure import Figure

        self.T = T
        self.scale = widgets.FloatSlider(value=scale, min=0.5, max=1.5, step=0.05, description="radius",
                                         continuous_update=False, readout_format=".2f")
        self.hidden_size = widgets.IntSlider(value=hidden_size, min=2, max=128, step=2, description="H",
                                             continuous_update=False)
        self.nonlinearity = widgets.ToggleButtons(options=list(NONLINEARITIES), value=nonlinearity,
                                                  description="f")
        self.output = widgets.Output()
        # A pyplot-free Figure: shown only where update() displays it, never twice by the inline backend.
        self.figure = Figure(figsize=(6.5, 3.6), layout="tight")
        self.ax = self.figure.add_subplot()
        self.line = None
        for control in (self.scale, self.hidden_size, self.nonlinearity):
            control.observe(self.update, names="value")
        self.panel = widgets.VBox([widgets.HBox([self.scale, self.hidden_size]), self.nonlinearity, self.output])
        self.update()

    def update(self, change=None) -> None:
        """Recompute for the controls' current values and redraw (the observer callback)."""
        from IPython.display import clear_output, display

        self.ax.clear()
        self.line = plot_gradient_flow(self.ax, self.scale.value, self.hidden_size.value,
                                       self.nonlinearity.value, self.T)
        self.ax.legend(loc="lower left", fontsize=8)
        with self.output:
            clear_output(wait=True)
            display(self.figure)


def gradient_flow_widget(scale: float = 1.0, hidden_size: int = 32, nonlinearity: str = "tanh", T: int = 50):
    """The ipywidgets panel (a VBox) of a new GradientFlowWidget; `panel.controller` is the object."""
    controller = GradientFlowWidget(scale, hidden_size, nonlinearity, T)
    controller.panel.controller = controller
    return controller.panel
