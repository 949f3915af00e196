"""The model cache key: what a file means to training, not how it is written."""

from __future__ import annotations

from pathlib import Path

from bot import train


def test_comments_and_layout_do_not_call_for_a_new_model_but_content_does(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: A\n    epochs: 5\n", encoding="utf-8")
    before = train._content(config)
    config.write_text("# why A\npipeline:\n  - {name: A, epochs: 5}  # five\n", encoding="utf-8")
    assert train._content(config) == before
    config.write_text("pipeline:\n  - name: A\n    epochs: 6\n", encoding="utf-8")
    assert train._content(config) != before
    code = tmp_path / "tokenizer.py"
    code.write_text("def f(x):\n    return x + 1\n", encoding="utf-8")
    first = train._content(code)
    code.write_text('def f(x):\n    """Adds one."""\n    return x + 1  # one\n', encoding="utf-8")
    assert train._content(code) != first  # a docstring is part of the tree; a comment is not
    code.write_text("def f(x):\n    return x + 1  # one\n", encoding="utf-8")
    assert train._content(code) == first


def test_every_training_input_is_hashed_and_the_key_is_stable() -> None:
    assert all(path.exists() for path in train.training_inputs())
    assert train.inputs_hash() == train.inputs_hash()
    assert len(train.inputs_hash()) == 16
