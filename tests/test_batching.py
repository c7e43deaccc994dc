"""Truncated-BPTT batches: each row continues where it stopped, targets one step ahead."""

import numpy as np
import pytest

from rnn_helpers.batching import num_batches, truncated_batches


def test_rows_are_contiguous_streams_and_targets_are_shifted():
    ids = np.arange(25)
    batches = list(truncated_batches(ids, batch_size=2, seq_len=4))
    assert len(batches) == num_batches(25, 2, 4) == 3
    x = np.concatenate([b[0] for b in batches], axis=1)  # (2, 12)
    y = np.concatenate([b[1] for b in batches], axis=1)
    np.testing.assert_array_equal(x[0], np.arange(0, 12))
    np.testing.assert_array_equal(x[1], np.arange(12, 24))
    np.testing.assert_array_equal(y, x + 1)
    assert all(b[0].dtype == np.int64 and b[0].shape == (2, 4) for b in batches)


def test_too_short_text_says_how_long_it_must_be():
    with pytest.raises(ValueError, match="at least 9"):
        list(truncated_batches(np.arange(5), batch_size=2, seq_len=4))
