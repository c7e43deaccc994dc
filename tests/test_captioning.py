"""Chapter 9 / assignment 7: the shapes dataset, the vocabulary, corpus BLEU-4, and grading `captioning`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from buggy_patching import load_generator

from autograder.grade import grade
from rnn_helpers.captioning import END, NULL, START, CaptionVocab, build_model, corpus_bleu, exact_match
from rnn_helpers.shapes import (RELATION_MARGIN, RELATIONS, SIZES, SPLIT_SEEDS, caption_words, equivalent_captions,
                                 make_example, make_split, random_scene, relations_that_hold)

ROOT = Path(__file__).resolve().parents[1]
BUGGY = ROOT / "tests" / "buggy_captioning"
make_buggy = load_generator(BUGGY)


# ---------------------------------------------------------------- BLEU-4, by hand

def test_bleu_is_one_for_a_perfect_match():
    assert corpus_bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(1.0)


def test_bleu_brevity_penalty_for_a_short_candidate():
    # every n-gram of "a b c d" is in the reference, but c = 4 < r = 6: BP = exp(1 - 6/4)
    assert corpus_bleu(["a b c d"], ["a b c d e f"]) == pytest.approx(math.exp(-0.5))


def test_bleu_no_penalty_for_a_long_candidate():
    # candidate longer than the reference: BP = 1; precisions 5/6, 4/5, 3/4, 2/3
    expected = (5 / 6 * 4 / 5 * 3 / 4 * 2 / 3) ** 0.25
    assert corpus_bleu(["a b c d e x"], ["a b c d e"]) == pytest.approx(expected)


def test_bleu_clips_repeated_words_and_is_zero_without_a_4gram():
    # "the" appears twice in the reference: 2 of 7 unigrams count; BP = 1 since c = 7 > r = 6
    cand, ref = ["the the the the the the the"], ["the cat is on the mat"]
    assert corpus_bleu(cand, ref, max_n=1) == pytest.approx(2 / 7)
    assert corpus_bleu(cand, ref) == 0.0  # no smoothing


def test_bleu_sums_counts_over_the_corpus_before_dividing():
    # pair 1 perfect; pair 2 one word wrong. n-grams matched / total: 9/10, 6/8, 3/6, 2/4
    cands, refs = ["a b c d e", "a b x d e"], ["a b c d e", "a b c d e"]
    assert corpus_bleu(cands, refs) == pytest.approx((0.9 * 0.75 * 0.5 * 0.5) ** 0.25)


def test_bleu_uses_the_reference_closest_in_length():
    # the 4-word reference is closest to the 4-word candidate, so r = 4 and BP = 1 (r = 6 would give
    # exp(-0.5)); the n-grams are matched against either reference
    assert corpus_bleu(["a b c d"], [["a b c d e f", "x y z w"]]) == pytest.approx(1.0)
    # a tie (3 and 5 words for a 4-word candidate) takes the shorter: r = 3, BP = 1
    assert corpus_bleu(["a b c d"], [["a b c d e", "x y z"]]) == pytest.approx(1.0)


def test_exact_match():
    assert exact_match(["a b", "a c", "x"], ["a b", "a b", "x"]) == pytest.approx(2 / 3)


# ---------------------------------------------------------------- data and vocabulary

def test_dataset_is_deterministic_and_splits_differ():
    img1, cap1 = make_example("test", 7)
    img2, cap2 = make_example("test", 7)
    assert np.array_equal(img1, img2) and cap1 == cap2
    assert img1.shape == (3, 32, 32) and img1.dtype == np.float32 and 0 <= img1.min() and img1.max() <= 1
    train, _ = make_split("train", 5)
    test, _ = make_split("test", 5)
    assert not np.allclose(train, test)
    with pytest.raises(ValueError, match="split"):
        make_example("dev", 0)


def test_every_caption_fits_and_round_trips_through_the_vocabulary():
    vocab = CaptionVocab()
    assert vocab.words[:3] == ["<null>", "<start>", "<end>"] and len(vocab) == 20
    _, caps = make_split("val", 300)
    kinds = set()
    for cap in caps:
        ids = vocab.encode(cap, 13)
        assert ids[0] == START and END in ids and ids[-1] in (END, NULL)
        assert vocab.decode(ids) == cap
        kinds.add("three" if "," in cap else "two" if len(cap.split()) > 4 else "one")
    assert kinds == {"one", "two", "three"}


def _held(first, second, margin=RELATION_MARGIN):
    """Which of the four relations "first REL second" hold by `margin`, from the positions alone
    (written out here rather than calling `relations_that_hold`, so the test does not trust it)."""
    dx, dy = second.cx - first.cx, second.cy - first.cy
    return {rel for rel, along, across in (("above", dy, dx), ("below", -dy, dx), ("left of", dx, dy),
                                           ("right of", -dx, dy)) if along > 0 and along >= margin * abs(across)}


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_relation_in_a_caption_is_the_only_one_that_holds(split):
    seen, n_two = set(), 0
    for i in range(400):
        objects, relation = random_scene(np.random.default_rng([SPLIT_SEEDS[split], i]))
        assert " ".join(caption_words(objects, relation)) == make_example(split, i)[1]  # the same scene
        if len(objects) == 3:  # no relation words, but listed left to right: neighbours do not overlap in x
            xs = sorted(o.cx for o in objects)
            assert min(b - a for a, b in zip(xs, xs[1:])) > 2 * SIZES["small"], (split, i)
        if len(objects) != 2:
            assert relation == ""
            continue
        n_two += 1
        first, second = objects
        seen.add(relation)
        assert _held(first, second) == {relation}, (split, i, relation, first, second)
        assert relations_that_hold(first, second) == [relation]
        # along the stated axis the objects do not overlap; along the other they do, so no other
        # relation holds even in the weak sense of "separated along its axis"
        r1, r2 = SIZES[first.size], SIZES[second.size]
        along, across = ((first.cy, second.cy), (first.cx, second.cx)) if relation in ("above", "below") \
            else ((first.cx, second.cx), (first.cy, second.cy))
        assert abs(along[0] - along[1]) >= r1 + r2 + 1, (split, i)
        assert abs(across[0] - across[1]) < r1 + r2, (split, i)
    assert seen == set(RELATIONS) and n_two > 100


def test_a_two_object_caption_has_exactly_one_paraphrase():
    assert equivalent_captions("a small red circle left of a large blue square") == [
        "a small red circle left of a large blue square", "a large blue square right of a small red circle"]
    assert equivalent_captions("a large green triangle below a small red circle")[1] == \
        "a small red circle above a large green triangle"
    assert equivalent_captions("a large red circle") == ["a large red circle"]
    assert equivalent_captions("a red circle , a blue square and a green triangle") == \
        ["a red circle , a blue square and a green triangle"]


def test_the_model_is_determined_by_config_and_seed():
    import torch

    a, b, c = build_model({}, 3), build_model({}, 3), build_model({}, 4)
    for (k, p), q, r in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(p, q), k
    assert any(not torch.equal(p, r) for p, r in zip(a.parameters(), c.parameters()))


# ---------------------------------------------------------------- grading

def test_buggy_files_are_generated_from_the_correct_one():
    for name in make_buggy.MISTAKES:
        assert (BUGGY / f"{name}.py").read_text() == make_buggy.buggy_source(name), f"run {BUGGY}/make_buggy.py"


def test_solution_scores_full_marks_on_several_seeds():
    for seed in (0, 1, 2):
        report = grade(ROOT / "solutions" / "07_captioning.ipynb", seed=seed)
        assert not report.error, report.error
        assert report.score == report.max_score == 100, (seed, report)


def test_correct_test_implementation_scores_full_marks():
    report = grade(BUGGY / "correct.py", assignment="captioning", seed=7)
    assert report.score == report.max_score == 100, report


@pytest.mark.parametrize("name", sorted(make_buggy.MISTAKES))
def test_each_buggy_submission_loses_its_points_and_gets_its_hint(name):
    entry = make_buggy.MISTAKES[name]
    report = grade(BUGGY / f"{name}.py", assignment="captioning", seed=3)
    failed = {t.group for t in report.tests if t.status != "passed"}
    assert failed == entry["fails"], (name, failed)
    text = " ".join(" ".join(t.output for t in report.tests).split())
    assert entry["hint"] in text, (name, text[:2000])


def test_the_generated_student_notebook_scores_zero_and_exits_1():
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(ROOT / "notebooks" / "07_captioning.ipynb"),
                           "--seed", "1"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Score: 0/100" in proc.stdout
    text = " ".join(proc.stdout.split())
    assert "captioning_loss is not implemented yet" in text and "decode_step is not implemented yet" in text


def test_experiment_quick_mode_writes_its_result(tmp_path):
    env = dict(os.environ, RNN_QUICK="1", RNN_RESULTS_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "experiments/captioning.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((tmp_path / "captioning.json").read_text())["data"]
    for method in ("greedy", "beam"):
        assert 0 <= data[method]["exact_match"] <= 1 and 0 <= data[method]["bleu4"] <= 1
    assert data["examples"] and {"index", "reference", "greedy", "beam"} <= set(data["examples"][0])
