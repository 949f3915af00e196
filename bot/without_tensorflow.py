"""Serve a model that uses no TensorFlow without loading TensorFlow.

Rasa 3.6 imports TensorFlow from its core (``rasa.core.agent`` → ``rasa.utils.train_utils`` → Keras
callbacks), whatever the model: some 340 of Rasa's 760 MB resident and a second of its start, for a
pipeline (jieba, count vectors, logistic regression, regex, rules and memoisation) that never runs a
tensor. When the trained model's components are all known to run without TensorFlow, the launcher
installs an import hook first: ``import tensorflow`` (and Keras, TF Addons, TF Hub, TF Text) then gives
a placeholder module whose attributes are placeholder classes, enough for Rasa's modules to define
their Keras subclasses, decorators and type annotations at import time.

Nothing may *use* TensorFlow in such a process: calling a placeholder with arguments (building a
tensor, a layer, a config call) raises :class:`TensorFlowNotLoaded` naming the call, instead of
computing anything. A model with any other component (DIET, TED, ResponseSelector, language models …)
is served with the real TensorFlow. ``HQT_RASA_TENSORFLOW=1`` forces it too.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

# Rasa components that run without TensorFlow (ours are in bot.*).
NO_TENSORFLOW = frozenset(
    {
        "JiebaTokenizer",
        "WhitespaceTokenizer",
        "RegexFeaturizer",
        "CountVectorsFeaturizer",
        "LexicalSyntacticFeaturizer",
        "LogisticRegressionClassifier",
        "KeywordIntentClassifier",
        "FallbackClassifier",
        "RegexEntityExtractor",
        "EntitySynonymMapper",
        "MemoizationPolicy",
        "AugmentedMemoizationPolicy",
        "RulePolicy",
    }
)
_ROOTS = ("tensorflow", "tensorflow_addons", "tensorflow_hub", "tensorflow_text", "keras", "tf_keras")


class TensorFlowNotLoaded(RuntimeError):
    """Something tried to compute with TensorFlow in a process served without it."""


class _Placeholder(type):
    """A class standing for any TensorFlow name: it can be subclassed, annotated with and used as a
    decorator (``@tf.function``, ``@tf.function(...)``); anything else raises."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return placeholder(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]  # a decorator: the function itself, never run through TensorFlow
        if not args:
            return cls  # a decorator's factory: @tf.function(experimental_relax_shapes=True)
        raise TensorFlowNotLoaded(
            f"{cls.__qualname__}() called, but this Rasa process runs without TensorFlow "
            "(bot.without_tensorflow); set HQT_RASA_TENSORFLOW=1 to load it"
        )

    def __getitem__(cls, item: Any) -> Any:
        return cls  # tf.Tensor[...] in an annotation

    def __or__(cls, other: Any) -> Any:
        return cls

    __ror__ = __or__


def placeholder(name: str) -> type:
    """A placeholder class for the TensorFlow name ``name``."""
    return _Placeholder(name.rsplit(".", 1)[-1], (), {"__qualname__": name, "__module__": "tensorflow"})


class _Module(types.ModuleType):
    """A placeholder module: every attribute a placeholder class, created once."""

    __version__ = "0+placeholder"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds every TensorFlow module as a placeholder module."""

    def find_spec(
        self,
        name: str,
        path: Any = None,  # noqa: ARG002
        target: Any = None,  # noqa: ARG002
    ) -> importlib.machinery.ModuleSpec | None:
        if name.split(".", 1)[0] in _ROOTS:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _Module(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:  # noqa: ARG002 (the loader protocol)
        return None


def components(config: dict[str, Any]) -> list[str]:
    """Every pipeline component and policy a Rasa config names."""
    return [str(item.get("name", "")) for key in ("pipeline", "policies") for item in config.get(key) or []]


def needs_tensorflow(names: Iterable[str]) -> list[str]:
    """The components among ``names`` not known to run without TensorFlow."""
    return [n for n in names if n not in NO_TENSORFLOW and not n.startswith("bot.")]


def install(config: dict[str, Any]) -> bool:
    """Install the import hook when the model's ``config`` needs no TensorFlow and nothing imported
    TensorFlow yet; True when installed."""
    if os.environ.get("HQT_RASA_TENSORFLOW") == "1" or needs_tensorflow(components(config)):
        return False
    if any(name.split(".", 1)[0] in _ROOTS for name in sys.modules):
        return False  # too late: the real one is loaded
    sys.meta_path.insert(0, _Finder())
    return True
