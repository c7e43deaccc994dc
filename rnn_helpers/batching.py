"""Batches for truncated backpropagation through time over one long text.

The text is cut into `batch_size` contiguous streams, one per batch row; each stream
is then read left to right in chunks of `seq_len` characters. Row i of batch k+1
continues exactly where row i of batch k stopped, so a training loop can carry each
row's final hidden state into the next batch (and stop gradients there).

    ids:   a b c d e f g h i j k l m n o p q r s t u v w x y        (25 ids)
    batch_size=2, seq_len=4: stream length (25 - 1) // 2 = 12

    row 0 reads a..l, row 1 reads m..x; the first batch is
        x = [[a b c d],      y = [[b c d e],
             [m n o p]]           [n o p q]]
    and the second continues [[e f g h], [q r s t]] with targets one step ahead.

Deterministic: no shuffling (shuffling would break the carried hidden state).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np


def truncated_batches(ids, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, y) pairs for one pass over `ids`, y being x shifted one step ahead.

    ids: 1-D sequence of ints (length L), e.g. `vocab.encode(text)`.
    batch_size: N, the number of contiguous streams (one per batch row).
    seq_len: T, the truncation length.
    Yields x, y: (N, T) int64 arrays, `(L - 1) // N // T` batches in all; the few ids
    left over at the end of each stream are not used. Raises ValueError when the text
    is too short for a single batch.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    if batch_size < 1 or seq_len < 1:
        raise ValueError(f"batch_size and seq_len must be positive, got {batch_size} and {seq_len}")
    stream_len = (len(ids) - 1) // batch_size  # inputs per row; the target needs one id more
    n_batches = stream_len // seq_len
    if n_batches == 0:
        raise ValueError(f"a text of {len(ids)} ids is too short for batch_size={batch_size}, "
                         f"seq_len={seq_len}: it needs at least {batch_size * seq_len + 1}")
    # Row i reads ids[i*stream_len : (i+1)*stream_len]; its targets are shifted by one.
    inputs = ids[: batch_size * stream_len].reshape(batch_size, stream_len)  # (N, stream_len)
    targets = ids[1 : batch_size * stream_len + 1].reshape(batch_size, stream_len)  # (N, stream_len)
    for k in range(n_batches):
        cols = slice(k * seq_len, (k + 1) * seq_len)
        yield inputs[:, cols].copy(), targets[:, cols].copy()  # (N, T) each


def num_batches(n_ids: int, batch_size: int, seq_len: int) -> int:
    """How many batches `truncated_batches` yields for a text of `n_ids` ids."""
    return max(n_ids - 1, 0) // batch_size // seq_len
