"""PyTorch character models: Embedding -> multilayer nn.LSTM (batch-first) -> Linear.

    config = CharLSTMConfig(vocab_size=len(vocab), hidden_size=256, num_layers=2)
    model = CharLSTM(config).to(device)
    logits, state = model(x)            # x: (N, T) int64 -> logits: (N, T, V)
    logits, state = model(x2, state)    # carry the state into the next chunk (detach it first)

This is the library model the training command uses; it is not the assignment's own `LSTM`
module (assignment 5 asks students to write that one and check it against `nn.LSTM`).
nn.LSTM stores its gates in the order i, f, g, o with weights shaped (4H, D); our NumPy code uses
i, f, o, g with (D, 4H) (see the notation page).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (num_layers, N, H)


@dataclass
class CharLSTMConfig:
    """Sizes of a CharLSTM. V = vocab_size, D = embed_dim, H = hidden_size."""

    vocab_size: int
    embed_dim: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.0  # between LSTM layers (nn.LSTM ignores it when num_layers == 1)

    def to_dict(self) -> dict:
        return asdict(self)


class CharLSTM(nn.Module):
    """A character language model: scores for the next character at every position."""

    def __init__(self, config: CharLSTMConfig):
        super().__init__()
        if config.vocab_size < 1 or config.hidden_size < 1 or config.num_layers < 1:
            raise ValueError(f"vocab_size, hidden_size and num_layers must be positive, got {config}")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)  # (V, D)
        self.lstm = nn.LSTM(config.embed_dim, config.hidden_size, num_layers=config.num_layers,
                            batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)  # (H -> V)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x: (N, T) int64 character indices; state: (h, c) each (L, N, H), or None for zeros.

        Returns logits (N, T, V) and the final state (h, c), each (L, N, H).
        """
        if x.dim() != 2:
            raise ValueError(f"x must be (N, T) character indices, got shape {tuple(x.shape)}")
        emb = self.embed(x)                       # (N, T, D)
        out, state = self.lstm(emb, state)        # out: (N, T, H), top layer's h at every step
        return self.head(out), state              # (N, T, V)

    def init_state(self, batch_size: int, device=None) -> State:
        """Zero (h, c), each (num_layers, batch_size, H)."""
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        device = device if device is not None else next(self.parameters()).device
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)


def detach_state(state: State | None) -> State | None:
    """Cut the graph behind a carried state (truncated BPTT): values kept, no gradient flows back."""
    if state is None:
        return None
    return tuple(s.detach() for s in state)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
