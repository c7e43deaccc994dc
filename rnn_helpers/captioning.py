"""Image captioning scaffolding (not graded): vocabulary, corpus BLEU-4, the CNN encoder + LSTM decoder
model, batching, a training loop and the decoding drivers.

The model's interface, which the graded `captioning_loss` and `decode_step` use (chapter 9):

    features = model.encoder(images)   # images (N, 3, S, S) -> features (N, F)
    h, c = model.init_state(features)  # (N, H) each: the image initialises the LSTM's state
    x = model.embed(tokens)            # tokens (N,) int64 -> (N, E)
    h, c = model.lstm(x, (h, c))       # nn.LSTMCell(E, H): one step
    scores = model.out(h)              # (N, V) unnormalised scores over the vocabulary

Index 0 is always `<null>` (padding), 1 `<start>`, 2 `<end>` (NULL, START, END below).
Both the notebook and the autograder build the model with `build_model(config, seed)`.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from rnn_helpers.shapes import IMAGE_SIZE, all_words, make_split

NULL, START, END = 0, 1, 2
SPECIALS = ("<null>", "<start>", "<end>")


# ---------------------------------------------------------------- vocabulary

class CaptionVocab:
    """Word vocabulary: `words[i]` is the word with index i; indices 0, 1, 2 are <null>, <start>, <end>."""

    def __init__(self, words=None):
        self.words = list(SPECIALS) + list(words if words is not None else all_words())
        if len(set(self.words)) != len(self.words):
            raise ValueError("CaptionVocab needs distinct words")
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, caption: str, length: int) -> np.ndarray:
        """(length,) int64: <start>, the words, <end>, then <null> padding; a caption too long raises."""
        ids = [START] + [self._id(w) for w in caption.split()] + [END]
        if len(ids) > length:
            raise ValueError(f"caption {caption!r} needs {len(ids)} tokens, more than length={length}")
        return np.array(ids + [NULL] * (length - len(ids)), dtype=np.int64)

    def encode_all(self, captions: list[str], length: int) -> np.ndarray:
        """(N, length) int64 for N captions."""
        return np.stack([self.encode(c, length) for c in captions])

    def decode(self, ids) -> str:
        """Words up to the first <end>, skipping <start> and <null>."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == END:
                break
            if i not in (START, NULL):
                out.append(self.words[i])
        return " ".join(out)

    def _id(self, word: str) -> int:
        if word not in self.index:
            raise KeyError(f"word {word!r} is not in the vocabulary")
        return self.index[word]


MAX_LEN = 13  # <start> + at most 11 words + <end>


def load_captions(split: str, n: int, vocab: CaptionVocab | None = None, size: int = IMAGE_SIZE):
    """Images (n, 3, S, S) float32, captions (n, MAX_LEN) int64 and the caption strings of a split."""
    vocab = vocab or CaptionVocab()
    images, texts = make_split(split, n, size)
    return images, vocab.encode_all(texts, MAX_LEN), texts


# ---------------------------------------------------------------- BLEU-4

def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def corpus_bleu(candidates: list[str], references: list[list[str]] | list[str], max_n: int = 4) -> float:
    """Corpus BLEU (Papineni et al., 2002) with uniform weights over 1..max_n-grams and the brevity penalty.

    candidates: N generated captions (strings of words); references: N reference captions, or N lists
    of them. Clipped n-gram counts and lengths are summed over the whole corpus before dividing;
    r is the summed length of the reference closest in length to each candidate (ties: the shorter).
    No smoothing: if some n has no match at all, BLEU is 0. Returns a float in [0, 1].
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references")
    matched, total = [0] * max_n, [0] * max_n
    c_len = r_len = 0
    for cand, refs in zip(candidates, references):
        refs = [refs] if isinstance(refs, str) else list(refs)
        cw, rws = cand.split(), [r.split() for r in refs]
        c_len += len(cw)
        r_len += min((abs(len(r) - len(cw)), len(r)) for r in rws)[1]
        for n in range(1, max_n + 1):
            counts = _ngrams(cw, n)
            best: Counter = Counter()
            for r in rws:
                best |= _ngrams(r, n)  # max count of each n-gram over the references
            matched[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += max(len(cw) - n + 1, 0)
    if c_len == 0 or min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total)) / max_n
    bp = 1.0 if c_len > r_len else math.exp(1.0 - r_len / c_len)
    return bp * math.exp(log_p)


def exact_match(candidates: list[str], references: list[str]) -> float:
    """Fraction of candidates equal to their reference, word for word."""
    return float(np.mean([c.split() == r.split() for c, r in zip(candidates, references)]))


# ---------------------------------------------------------------- the model

@dataclass
class CaptionConfig:
    vocab_size: int = 20
    embed_dim: int = 32
    hidden_dim: int = 128
    feature_dim: int = 128
    channels: tuple = (16, 32, 64)
    image_size: int = IMAGE_SIZE
    batch_norm: bool = True  # in the conv blocks: without it the decoder learns to ignore the image for long
    forget_bias: float = 1.0  # initial bias of the LSTM's forget gate: keeps the image's c0 for longer

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d


def _modules():
    import torch
    from torch import nn

    class CNNEncoder(nn.Module):
        """A few 3x3 conv (+ batch norm) + ReLU + 2x2 max-pool blocks, then a linear layer: (N, 3, S, S) -> (N, F)."""

        def __init__(self, cfg: CaptionConfig):
            super().__init__()
            layers, c_in = [], 3
            for c_out in cfg.channels:
                norm = [nn.BatchNorm2d(c_out)] if cfg.batch_norm else []
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not cfg.batch_norm), *norm, nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c_out
            self.conv = nn.Sequential(*layers)
            side = cfg.image_size // 2 ** len(cfg.channels)
            self.fc = nn.Linear(c_in * side * side, cfg.feature_dim)

        def forward(self, images):
            z = self.conv(images)                   # (N, C, S', S')
            return torch.relu(self.fc(z.flatten(1)))  # (N, F)

    class CaptionModel(nn.Module):
        """CNN encoder -> initial (h, c) of an LSTM decoder -> words (see the module docstring)."""

        def __init__(self, cfg: CaptionConfig):
            super().__init__()
            self.config = cfg
            self.encoder = CNNEncoder(cfg)
            self.init_h = nn.Linear(cfg.feature_dim, cfg.hidden_dim)
            self.init_c = nn.Linear(cfg.feature_dim, cfg.hidden_dim)
            self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
            self.lstm = nn.LSTMCell(cfg.embed_dim, cfg.hidden_dim)
            self.out = nn.Linear(cfg.hidden_dim, cfg.vocab_size)

        def init_state(self, features):
            """features (N, F) -> (h0, c0), each (N, H)."""
            return torch.tanh(self.init_h(features)), torch.tanh(self.init_c(features))

    return CNNEncoder, CaptionModel


def build_model(config: CaptionConfig | dict | None = None, seed: int = 0, dtype=None):
    """A `CaptionModel` with weights drawn from `seed` (same seed and config, same weights)."""
    import torch

    cfg = config if isinstance(config, CaptionConfig) else CaptionConfig(**(config or {}))
    if isinstance(cfg.channels, list):
        cfg.channels = tuple(cfg.channels)
    _, CaptionModel = _modules()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CaptionModel(cfg)
        H = cfg.hidden_dim
        with torch.no_grad():  # nn.LSTMCell's gates are ordered i, f, g, o; both biases are added
            model.lstm.bias_ih[H:2 * H] += cfg.forget_bias / 2
            model.lstm.bias_hh[H:2 * H] += cfg.forget_bias / 2
    return model.to(dtype) if dtype is not None else model


def model_from_arrays(config: dict, weights: dict, dtype=None):
    """Rebuild a model from a config dict and {name: array} weights (how the autograder sends it)."""
    import torch

    model = build_model(config, 0, dtype=torch.float64)
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()})
    return model.to(dtype) if dtype is not None else model


def model_arrays(model) -> dict:
    """The model's weights as {name: float64 array}."""
    return {k: v.detach().cpu().double().numpy() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------- training and decoding

def train_captioner(model, loss_fn, images, captions, *, steps: int, batch_size: int = 64, lr: float = 2e-3,
                    device=None, seed: int = 0, log_every: int = 0, clip: float = 5.0) -> list[float]:
    """Train with Adam on random minibatches; loss_fn(model, images, captions) is your captioning_loss.

    images (N, 3, S, S) float32 and captions (N, L) int64 as NumPy arrays. Returns the loss per step.
    """
    import torch

    device = device or torch.device("cpu")
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=lr / 20)
    rng = np.random.default_rng(seed)
    X, Y = torch.as_tensor(images), torch.as_tensor(captions)
    losses, t0 = [], time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.as_tensor(rng.integers(0, len(X), size=batch_size))
        loss = loss_fn(model, X[idx].to(device), Y[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps):
            rate = step * batch_size / (time.perf_counter() - t0)
            print(f"step {step:5d}/{steps}  loss {np.mean(losses[-log_every:]):.3f}  {rate:,.0f} images/s")
    model.eval()
    return losses


def greedy_captions(model, images, decode_step, *, max_len: int = MAX_LEN, batch_size: int = 256, device=None):
    """Greedy decoding with your decode_step, a batch at a time: (N, max_len) int64 token ids (no <start>)."""
    import torch

    device = device or next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            x = torch.as_tensor(images[i:i + batch_size]).to(device)
            state = model.init_state(model.encoder(x))
            token = torch.full((len(x),), START, dtype=torch.long, device=device)
            words = []
            for _ in range(max_len):
                log_probs, state = decode_step(model, token, state)  # (n, V)
                token = log_probs.argmax(dim=1)
                words.append(token)
            out.append(torch.stack(words, 1).cpu().numpy())
    return np.concatenate(out)


def beam_captions(model, images, decode_step, beam_search, *, beam_width: int = 3, max_len: int = MAX_LEN,
                  device=None) -> list[list[int]]:
    """Beam search, one image at a time, with your decode_step and chapter 7's beam_search.

    beam_search(step_fn, start_state, start_token, end_token, beam_width, max_len) gets
    step_fn(token: int, state) -> (log_probs: (V,) float64 NumPy array, new_state); returns the best
    sequence of each image (a list of ints, <start> and <end> removed).
    """
    import torch

    device = device or next(model.parameters()).device

    def step_fn(token, state):
        tok = torch.tensor([int(token)], dtype=torch.long, device=device)
        log_probs, new_state = decode_step(model, tok, state)  # (1, V)
        return log_probs[0].double().cpu().numpy(), new_state

    best = []
    with torch.no_grad():
        for i in range(len(images)):
            x = torch.as_tensor(images[i:i + 1]).to(device)
            state = model.init_state(model.encoder(x))
            seqs = beam_search(step_fn, state, START, END, beam_width, max_len)
            seq = [int(t) for t in seqs[0][0] if int(t) not in (START, END)]
            best.append(seq)
    return best
