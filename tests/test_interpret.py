"""Cell-property sequences of source text, the correlation search, and the coloured-text renderer."""

import numpy as np
import pytest
import torch

from rnn_helpers import interpret
from rnn_helpers.data import CharVocab
from rnn_helpers.models import CharLSTM, CharLSTMConfig

SOURCE = 'def f(x):\n    """Doc."""\n    y = "a#b"  # note\n    return y\n'


def marked(text, values):
    return "".join(ch for ch, v in zip(text, values) if v)


def test_strings_and_comments_come_from_tokenize():
    inside = interpret.inside_string_or_comment(SOURCE)
    assert inside.shape == (len(SOURCE),)
    assert marked(SOURCE, inside) == '"""Doc."""' + '"a#b"' + "# note"


def test_untokenizable_snippets_fall_back_to_the_scanner():
    cut = 'x = (1,\n  "abc" # c\n'  # an unclosed bracket: tokenize fails at the end
    assert marked(cut, interpret.inside_string_or_comment(cut)) == '"abc"# c'
    open_doc = '  """never closed\nmore\n'
    inside = interpret.inside_string_or_comment(open_doc)
    assert inside[:2].sum() == 0 and inside[2:-1].all()


def test_indentation_and_position_in_line():
    text = "a\n    bc\n\tx\n"
    np.testing.assert_array_equal(interpret.indentation_depth(text), [0, 0] + [4] * 7 + [4] * 3)
    np.testing.assert_array_equal(interpret.position_in_line(text), [0, 1, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2])


def test_correlations_find_a_planted_cell():
    rng = np.random.default_rng(0)
    prop = interpret.position_in_line(SOURCE)
    acts = {"h": rng.standard_normal((len(SOURCE), 5)), "c": rng.standard_normal((len(SOURCE), 4))}
    acts["c"][:, 2] = -0.3 * prop + 0.01 * rng.standard_normal(len(SOURCE))
    acts["h"][:, 0] = 1.0  # a constant unit: correlation 0, not NaN
    found = interpret.find_cells(SOURCE, acts)
    assert found["best"]["line_position"]["kind"] == "c" and found["best"]["line_position"]["unit"] == 2
    assert found["best"]["line_position"]["r"] < -0.99
    assert found["correlations"]["h"]["indentation"][0] == 0.0
    r = interpret.correlations(acts["h"], prop)
    np.testing.assert_allclose(r[1:], [np.corrcoef(acts["h"][:, k], prop)[0, 1] for k in range(1, 5)])


def test_activations_match_the_model_run_in_one_pass():
    torch.manual_seed(0)
    vocab = CharVocab(sorted(set(SOURCE)))
    model = CharLSTM(CharLSTMConfig(vocab_size=len(vocab), embed_dim=4, hidden_size=5, num_layers=2))
    acts = interpret.activations(model, vocab, SOURCE)
    assert acts["c"].shape == acts["h"].shape == (len(SOURCE), 5)
    with torch.no_grad():
        x = torch.as_tensor(vocab.encode(SOURCE)).unsqueeze(0)
        out, _ = model.lstm(model.embed(x))  # top layer's h at every step
    np.testing.assert_allclose(acts["h"], out[0].numpy(), rtol=1e-4, atol=1e-5)


def test_colored_html_escapes_and_colours():
    page = interpret.colored_html("<a>\n", [1.0, -1.0, 0.0, 0.5], title="cell 3 & co")
    assert "&lt;" in page and "&gt;" in page and "cell 3 &amp; co" in page
    assert "rgb(255,0,0)" in page and "rgb(0,0,255)" in page and "rgb(255,255,255)" in page
    with pytest.raises(ValueError, match="one value per character"):
        interpret.colored_html("ab", [1.0])
    tipped = interpret.colored_html("ab", [5.0, -5.0], scale=1.0, labels=[0.25, -0.5])
    assert 'title="+0.25"' in tipped and "rgb(255,0,0)" in tipped  # saturates beyond the scale


def test_source_excerpt_starts_at_a_file_and_ends_at_a_line_break():
    corpus = "# file: a.py\nx = 1\n# file: b.py\ny = 2\nz = 3\n"
    piece = interpret.source_excerpt(corpus, 20, start_at_file=1)
    assert piece.startswith("# file: b.py") and piece.endswith("\n") and len(piece) <= 20
