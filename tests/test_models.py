"""CharLSTM: shapes, a carried state that matches one long pass, and decoding."""

import pytest
import torch

from rnn_helpers.data import CharVocab
from rnn_helpers.decoding import greedy, sample
from rnn_helpers.models import CharLSTM, CharLSTMConfig, count_parameters, detach_state


@pytest.fixture
def model():
    torch.manual_seed(0)
    return CharLSTM(CharLSTMConfig(vocab_size=7, embed_dim=5, hidden_size=6, num_layers=2))


def test_shapes_and_parameter_count(model):
    logits, (h, c) = model(torch.randint(0, 7, (3, 4)))
    assert logits.shape == (3, 4, 7) and h.shape == c.shape == (2, 3, 6)
    # embedding + 2 LSTM layers (4H x (in + H) weights, two 4H biases each) + head
    expected = 7 * 5 + (24 * (5 + 6) + 48) + (24 * (6 + 6) + 48) + (6 * 7 + 7)
    assert count_parameters(model) == expected


def test_carried_state_equals_one_long_pass(model):
    x = torch.randint(0, 7, (2, 10))
    whole, _ = model(x)
    first, state = model(x[:, :6])
    second, _ = model(x[:, 6:], detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, rtol=1e-5, atol=1e-6)


def test_detached_state_stops_gradients(model):
    _, state = model(torch.randint(0, 7, (1, 3)))
    h, c = detach_state(state)
    assert not h.requires_grad and not c.requires_grad and detach_state(None) is None


def test_wrong_input_rank_says_what_it_expects(model):
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model(torch.zeros(3, dtype=torch.long))


def test_sampling_is_reproducible_and_greedy_is_deterministic(model):
    vocab = CharVocab("abcdefg")
    a = sample(model, vocab, "ab", 20, 1.0, generator=torch.Generator().manual_seed(3))
    b = sample(model, vocab, "ab", 20, 1.0, generator=torch.Generator().manual_seed(3))
    assert a == b and len(a) == 20 and set(a) <= set("abcdefg")
    assert greedy(model, vocab, "ab", 15) == greedy(model, vocab, "ab", 15)
    assert sample(model, vocab, "ab", 15, 0.0) == greedy(model, vocab, "ab", 15)
    assert model.training  # decoding restores the mode it found


def test_low_temperature_approaches_greedy(model):
    vocab = CharVocab("abcdefg")
    cold = sample(model, vocab, "c", 15, 1e-4, generator=torch.Generator().manual_seed(0))
    assert cold == greedy(model, vocab, "c", 15)


def test_bad_arguments(model):
    vocab = CharVocab("abcdefg")
    with pytest.raises(ValueError, match="prompt"):
        sample(model, vocab, "", 5)
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, "a", 5, -1.0)
