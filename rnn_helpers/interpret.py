"""Interpretable cells: properties of source text, a search over hidden units, coloured text.

After Karpathy, Johnson and Fei-Fei (2015), "Visualizing and understanding recurrent networks":
train a character LSTM on source code, then look for single units whose activation follows a
simple property of the text. Three properties, each one number per character:

    inside_string_or_comment(text)  1.0 inside a string literal or a comment, else 0.0
    indentation_depth(text)         leading spaces of the character's line (tabs count 4)
    position_in_line(text)          the character's column (0 right after a line break)

`find_cells(text, activations)` correlates every unit with every property (Pearson) and keeps the
best by absolute value; `colored_html(text, values)` renders the text with one background colour
per character (red positive, blue negative), for `IPython.display.HTML`.
"""

from __future__ import annotations

import html
import io
import tokenize

import numpy as np
import torch

PROPERTIES = ("string_or_comment", "indentation", "line_position")


# ----------------------------------------------------------------------------- properties of the text

def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    return starts


def inside_string_or_comment(text: str) -> np.ndarray:
    """(L,) float: 1.0 for characters of string literals (quotes included) and comments, else 0.0.

    Uses Python's `tokenize`; where the text stops being tokenizable (a snippet cut mid-statement,
    inconsistent indentation), the rest is scanned by a simple quote-and-hash scanner instead.
    """
    out = np.zeros(len(text), dtype=np.float64)
    starts = _line_starts(text)
    done = 0  # characters before this offset are settled by tokenize
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            (r0, c0), (r1, c1) = tok.start, tok.end
            a, b = starts[r0 - 1] + c0, starts[r1 - 1] + c1 if r1 - 1 < len(starts) else len(text)
            if tok.type in (tokenize.STRING, tokenize.COMMENT) or tok.type in _FSTRING_TYPES:
                out[a:b] = 1.0
            done = max(done, b)
    except (tokenize.TokenError, SyntaxError):
        _scan(text, done, out)
    return out


_FSTRING_TYPES = tuple(getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                       if hasattr(tokenize, n))  # Python 3.12+ splits f-strings into several tokens


def _scan(text: str, start: int, out: np.ndarray) -> None:
    """Fallback from `start` on: mark quoted stretches and #-comments (no escapes beyond backslash)."""
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = 1.0
            i = j
        elif ch in "'\"":
            quote = text[i: i + 3] if text[i: i + 3] in ("'''", '"""') else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and len(quote) == 1:
                    break
                j += 1
            j = min(n, j + len(quote))
            out[i:j] = 1.0
            i = j
        else:
            i += 1


def indentation_depth(text: str) -> np.ndarray:
    """(L,) float: the number of leading spaces of each character's line (a tab counts 4)."""
    out = np.zeros(len(text), dtype=np.float64)
    for a in _line_starts(text):
        b = text.find("\n", a)
        b = len(text) if b < 0 else b + 1  # the line break belongs to its line
        line = text[a:b]
        body = line.lstrip(" \t")
        lead = line[: len(line) - len(body)]
        out[a:b] = lead.count(" ") + 4 * lead.count("\t")
    return out


def position_in_line(text: str) -> np.ndarray:
    """(L,) float: each character's column, counting from 0 after every line break."""
    out = np.zeros(len(text), dtype=np.float64)
    for a in _line_starts(text):
        b = text.find("\n", a)
        b = len(text) if b < 0 else b + 1
        out[a:b] = np.arange(b - a)
    return out


def properties(text: str) -> dict[str, np.ndarray]:
    """The three property sequences of `text`, keyed by the names in PROPERTIES."""
    return {"string_or_comment": inside_string_or_comment(text), "indentation": indentation_depth(text),
            "line_position": position_in_line(text)}


# ----------------------------------------------------------------------------- the search

def source_excerpt(text: str, max_chars: int, start_at_file: int = 0) -> str:
    """A piece of a `# file: ...` corpus of at most `max_chars`, starting at a file header, ending at a line break."""
    at = 0
    for _ in range(start_at_file):
        nxt = text.find("# file: ", at + 1)
        if nxt < 0:
            break
        at = nxt
    piece = text[at: at + max_chars]
    cut = piece.rfind("\n")
    return piece[: cut + 1] if cut > 0 else piece


@torch.no_grad()
def activations(model, vocab, text: str, device=None) -> dict[str, np.ndarray]:
    """Top-layer cell states c and hidden states h after each character: {"c": (L, H), "h": (L, H)}.

    nn.LSTM returns only the last c, so the text is fed one character at a time, carrying the state.
    """
    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    ids = torch.as_tensor(vocab.encode(text), device=device)  # (L,)
    cs, hs, state = [], [], None
    for k in range(len(ids)):
        _, state = model(ids[k].view(1, 1), state)  # state: (h, c), each (layers, 1, H)
        hs.append(state[0][-1, 0])
        cs.append(state[1][-1, 0])
    model.train(was_training)
    return {"c": torch.stack(cs).cpu().numpy(), "h": torch.stack(hs).cpu().numpy()}  # (L, H) each


def correlations(acts: np.ndarray, prop: np.ndarray) -> np.ndarray:
    """(H,) Pearson correlation of every column of acts (L, H) with prop (L,); 0 where either is constant."""
    a = acts - acts.mean(axis=0)  # (L, H)
    p = prop - prop.mean()  # (L,)
    denom = np.sqrt((a * a).sum(axis=0) * (p @ p))  # (H,)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (p @ a) / denom
    return np.where(denom > 0, r, 0.0)


def find_cells(text: str, acts: dict[str, np.ndarray]) -> dict:
    """For every property, the unit (kind "c" or "h", index) with the largest |Pearson r|.

    Returns {"best": {prop: {"kind", "unit", "r"}}, "correlations": {kind: {prop: (H,) array}}}.
    """
    props = properties(text)
    corr = {kind: {name: correlations(a, p) for name, p in props.items()} for kind, a in acts.items()}
    best = {}
    for name in props:
        kind, unit = max(((k, int(np.argmax(np.abs(corr[k][name])))) for k in corr),
                         key=lambda ku: abs(corr[ku[0]][name][ku[1]]))
        best[name] = {"kind": kind, "unit": unit, "r": float(corr[kind][name][unit])}
    return {"best": best, "correlations": corr}


# ----------------------------------------------------------------------------- coloured text

def _colour(v: float) -> str:
    """Background for a value in [-1, 1]: white at 0, red towards +1, blue towards -1."""
    v = float(np.clip(v, -1.0, 1.0))
    fade = int(round(255 * (1 - abs(v))))
    return f"rgb(255,{fade},{fade})" if v >= 0 else f"rgb({fade},{fade},255)"


def colored_html(text: str, values, title: str | None = None, scale: float | None = None,
                 labels=None) -> str:
    """HTML (a string) showing `text` with each character on a background coloured by `values`.

    values: one number per character; divided by `scale` (default: the largest |value|) so the
    colours span [-1, 1] (beyond that they saturate). Line breaks are kept and shown as ↵. Each
    character's tooltip shows its number from `labels` (default: `values`), e.g. the raw activation
    when `values` were centred.
    """
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    tips = vals if labels is None else np.asarray(labels, dtype=np.float64).reshape(-1)
    if len(vals) != len(text) or len(tips) != len(text):
        raise ValueError(f"need one value per character: {len(text)} characters, {len(vals)} values"
                         f"{'' if labels is None else f', {len(tips)} labels'}")
    scale = scale or (float(np.abs(vals).max()) or 1.0)
    spans = []
    for ch, v, tip in zip(text, vals, tips):
        shown = "↵\n" if ch == "\n" else html.escape(ch)
        spans.append(f'<span style="background:{_colour(v / scale)}" title="{tip:+.2f}">{shown}</span>')
    head = f'<div style="font-weight:bold;margin:0.5em 0 0.2em">{html.escape(title)}</div>' if title else ""
    body = ('<pre style="font-family:monospace;font-size:0.8em;line-height:1.25;white-space:pre;'
            f'overflow-x:auto;padding:0.4em;border:1px solid #ddd">{"".join(spans)}</pre>')
    return head + body
