"""A model with no TensorFlow component is served without TensorFlow; anything else gets the real one."""

from __future__ import annotations

import subprocess
import sys

import yaml

from bot import without_tensorflow
from huiqitong.settings import ROOT


def test_our_pipeline_and_policies_need_no_tensorflow() -> None:
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    names = without_tensorflow.components(config)
    assert "LogisticRegressionClassifier" in names
    assert "RulePolicy" in names
    assert without_tensorflow.needs_tensorflow(names) == []


def test_diet_or_ted_or_an_unknown_component_needs_tensorflow() -> None:
    config = {
        "pipeline": [{"name": "bot.tokenizer.NormalizingJiebaTokenizer"}, {"name": "DIETClassifier"}],
        "policies": [{"name": "TEDPolicy"}, {"name": "RulePolicy"}, {"name": "some.Custom"}],
    }
    assert without_tensorflow.needs_tensorflow(without_tensorflow.components(config)) == [
        "DIETClassifier",
        "TEDPolicy",
        "some.Custom",
    ]
    assert without_tensorflow.install(config) is False


_PROBE = """
import sys
from bot import without_tensorflow as w
assert w.install({"pipeline": [{"name": "CountVectorsFeaturizer"}], "policies": [{"name": "RulePolicy"}]})
import tensorflow as tf
from tensorflow.keras import layers

class Layer(layers.Layer):  # Rasa's modules subclass Keras at import time
    pass

@tf.function(experimental_relax_shapes=True)
def f(x: tf.Tensor) -> tf.Tensor:
    return x

assert f(3) == 3  # a decorator leaves the function as written
try:
    tf.constant([1.0])
except w.TensorFlowNotLoaded as exc:
    print("refused:", exc)
import rasa.core.agent  # Rasa's core imports with the placeholder
print("tensorflow real:", hasattr(sys.modules["tensorflow"], "__file__") and sys.modules["tensorflow"].__file__ is not None)
"""


def test_the_placeholder_lets_rasa_import_and_refuses_any_computation() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused: tensorflow.constant() called" in done.stdout
    assert "tensorflow real: False" in done.stdout
