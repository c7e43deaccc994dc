"""A synthetic image-captioning dataset: simple shapes drawn with NumPy, captions from a small grammar.

Every image holds one to three objects (circle, square, triangle; four colours; two sizes) on a
dark, slightly noisy background. Its caption comes from a grammar with three forms:

    one object     "a large red circle"
    two objects    "a small red circle above a large blue square"   (above, below, left of, right of;
                   placed so that only the stated relation holds: see `random_scene`)
    three objects  "a red circle , a blue square and a green triangle"   (left to right, no sizes)

Generation is deterministic: image `i` of a split is drawn from its own generator, seeded by
(split seed, i), so any single image can be regenerated without drawing the whole split
(`make_example(split, i)`); this is how the book shows test images with their generated captions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.15, 0.8, 0.2), "blue": (0.2, 0.35, 1.0), "yellow": (0.95, 0.85, 0.1)}
SIZES = {"small": 4.5, "large": 7.0}  # radius in pixels of a 32x32 image
RELATIONS = ("above", "below", "left of", "right of")
OBJECT_COUNTS = {1: 0.3, 2: 0.45, 3: 0.25}  # probability of an image holding 1, 2 or 3 objects
RELATION_MARGIN = 2.0  # a relation's axis separation is at least this many times the other axis's offset
SPLIT_SEEDS = {"train": 1001, "val": 2002, "test": 3003}
IMAGE_SIZE = 32
SUPERSAMPLE = 2  # draw at 2x and average 2x2 blocks: cheap anti-aliasing


@dataclass(frozen=True)
class Obj:
    shape: str
    colour: str
    size: str
    cx: float  # centre, pixels (x to the right, y down)
    cy: float

    def words(self, with_size: bool = True) -> list[str]:
        return ["a", self.size, self.colour, self.shape] if with_size else ["a", self.colour, self.shape]


def caption_words(objects: list[Obj], relation: str = "") -> list[str]:
    """The caption of a scene as a list of words (no <start>/<end>)."""
    if len(objects) == 1:
        return objects[0].words()
    if len(objects) == 2:
        return objects[0].words() + relation.split() + objects[1].words()
    a, b, c = sorted(objects, key=lambda o: o.cx)  # left to right
    return a.words(False) + [","] + b.words(False) + ["and"] + c.words(False)


def _random_obj(rng, size, cx, cy) -> Obj:
    return Obj(str(rng.choice(SHAPES)), str(rng.choice(list(COLOURS))), size, float(cx), float(cy))


def random_scene(rng: np.random.Generator, size: int = IMAGE_SIZE) -> tuple[list[Obj], str]:
    """Objects (in caption order) and the relation word(s) for a two-object scene ("" otherwise).

    Positions are laid out so the caption is never ambiguous. A relation's two objects are separated
    along its axis by at least one pixel of clear space, and their offset along the other axis is at
    most 1 / RELATION_MARGIN of that separation, so exactly one of the four relations describes the
    pair (`relations_that_hold`). Three objects sit one in each vertical third, so their left-to-right
    order is clear too.
    """
    n = int(rng.choice(list(OBJECT_COUNTS), p=list(OBJECT_COUNTS.values())))
    if n == 1:
        s = str(rng.choice(list(SIZES)))
        r = SIZES[s]
        return [_random_obj(rng, s, *rng.uniform(r + 1, size - r - 1, size=2))], ""
    if n == 3:  # three small objects, one in each vertical third, listed left to right
        r, third = SIZES["small"], size / 3
        objs = [_random_obj(rng, "small", third * k + third / 2 + rng.uniform(-0.6, 0.6),
                            rng.uniform(r + 1, size - r - 1)) for k in range(3)]
        order = rng.permutation(3)
        return [objs[k] for k in order], ""
    relation = str(rng.choice(RELATIONS))
    s1, s2 = (str(s) for s in rng.choice(list(SIZES), size=2))
    r1, r2 = SIZES[s1], SIZES[s2]
    first_before = relation in ("above", "left of")  # first object has the smaller coordinate
    r_lo, r_hi = (r1, r2) if first_before else (r2, r1)
    while True:  # along the relation's axis a_lo < a_hi, with clear space between the two objects
        a_lo, a_hi = rng.uniform(r_lo + 1, size - r_lo - 1), rng.uniform(r_hi + 1, size - r_hi - 1)
        if a_hi - a_lo >= r_lo + r_hi + 1:
            break
    p1, p2 = (a_lo, a_hi) if first_before else (a_hi, a_lo)
    while True:  # the other axis: offset small against the separation, so no second relation is true
        b1, b2 = rng.uniform(r1 + 1, size - r1 - 1), rng.uniform(r2 + 1, size - r2 - 1)
        if RELATION_MARGIN * abs(b1 - b2) <= a_hi - a_lo:
            break
    if relation in ("above", "below"):
        return [_random_obj(rng, s1, b1, p1), _random_obj(rng, s2, b2, p2)], relation
    return [_random_obj(rng, s1, p1, b1), _random_obj(rng, s2, p2, b2)], relation


def relations_that_hold(first: Obj, second: Obj, margin: float = RELATION_MARGIN) -> list[str]:
    """The relations "first <relation> second" that hold by `margin`, computed from the positions alone.

    "above" holds when `first` is higher (smaller y) by at least `margin` times the horizontal offset,
    and likewise for the other three; the generator makes exactly one hold for every two-object scene.
    """
    dx, dy = second.cx - first.cx, second.cy - first.cy
    held = {"above": dy > 0 and dy >= margin * abs(dx), "below": dy < 0 and -dy >= margin * abs(dx),
            "left of": dx > 0 and dx >= margin * abs(dy), "right of": dx < 0 and -dx >= margin * abs(dy)}
    return [rel for rel in RELATIONS if held[rel]]


def _mask(obj: Obj, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    r = SIZES[obj.size]
    dx, dy = xs - obj.cx, ys - obj.cy
    if obj.shape == "circle":
        return dx * dx + dy * dy <= r * r
    if obj.shape == "square":
        side = 0.82 * r
        return (np.abs(dx) <= side) & (np.abs(dy) <= side)
    # triangle pointing up: apex (0, -r), base corners (+-r, 0.8 r); inside all three half-planes
    base = dy <= 0.8 * r
    left = (dy + r) * r >= -1.8 * r * dx   # right of the left edge
    right = (dy + r) * r >= 1.8 * r * dx   # left of the right edge
    return base & left & right


def render(objects: list[Obj], rng: np.random.Generator, size: int = IMAGE_SIZE) -> np.ndarray:
    """(3, size, size) float32 image in [0, 1]: the objects on a dark, slightly noisy background."""
    big = size * SUPERSAMPLE
    coords = (np.arange(big) + 0.5) / SUPERSAMPLE        # (big,) pixel-centre coordinates
    ys, xs = np.meshgrid(coords, coords, indexing="ij")  # (big, big) each
    img = np.zeros((3, big, big), dtype=np.float32)
    img += np.float32(0.08)
    for obj in objects:
        m = _mask(obj, ys, xs)                           # (big, big) bool
        img[:, m] = np.asarray(COLOURS[obj.colour], dtype=np.float32)[:, None]
    img = img.reshape(3, size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(2, 4))  # (3, size, size)
    img += rng.normal(0.0, 0.03, size=img.shape).astype(np.float32)
    return np.clip(img, 0.0, 1.0)


def make_example(split: str, index: int, size: int = IMAGE_SIZE) -> tuple[np.ndarray, str]:
    """Image `index` of `split` ("train", "val", "test") and its caption (a string of words)."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    rng = np.random.default_rng([SPLIT_SEEDS[split], int(index)])
    objects, relation = random_scene(rng, size)
    return render(objects, rng, size), " ".join(caption_words(objects, relation))


def make_split(split: str, n: int, size: int = IMAGE_SIZE) -> tuple[np.ndarray, list[str]]:
    """The first n examples of a split: images (n, 3, size, size) float32 and n caption strings."""
    images = np.empty((n, 3, size, size), dtype=np.float32)
    captions = []
    for i in range(n):
        images[i], cap = make_example(split, i, size)
        captions.append(cap)
    return images, captions


def all_words() -> list[str]:
    """Every word the grammar can produce, in a fixed order (the vocabulary after the special tokens)."""
    words = ["a", *SIZES, *COLOURS, *SHAPES]
    for rel in RELATIONS:
        words += [w for w in rel.split() if w not in words]
    return words + [",", "and"]


INVERSE = {"above": "below", "below": "above", "left of": "right of", "right of": "left of"}


def equivalent_captions(caption: str) -> list[str]:
    """The caption and its paraphrases that describe the same scene equally well.

    A two-object caption can name either object first: "a small red circle above a large blue square"
    is also "a large blue square below a small red circle". The grammar picks one at random, so a
    model cannot know which; one- and three-object captions have a single form.
    """
    words = caption.split()
    for rel, inv in INVERSE.items():
        r = rel.split()
        for i in range(1, len(words) - len(r)):
            if words[i:i + len(r)] == r and words[0] == "a" and words[i + len(r)] == "a":
                first, second = words[:i], words[i + len(r):]
                return [caption, " ".join(second + inv.split() + first)]
    return [caption]
