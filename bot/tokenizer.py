"""Rasa tokenizer that normalises text (繁→简, 全角, 中文数字) with the project's one function first.

It replaces ``JiebaTokenizer`` at the head of the pipeline, so the featurizers, DIET and the regex
extractor all see normalised text, whichever channel the message came through.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.text import normalize


def normalize_message(message: Message) -> None:
    """Rewrite a message's text in normalised form, unless that would move entity annotations."""
    text = message.get(TEXT)
    if not isinstance(text, str) or not text:
        return
    clean = normalize(text)
    if clean != text and not message.get(ENTITIES):
        message.set(TEXT, clean, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer on normalised text, without the bare-space tokens of RasaHQ/rasa#7910."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise, then tokenise, every training example."""
        for example in training_data.training_examples:
            normalize_message(example)
        return super().process_training_data(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise, then tokenise, incoming messages."""
        for message in messages:
            normalize_message(message)
        return super().process(messages)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """jieba tokens with whitespace-only tokens dropped."""
        return [t for t in super().tokenize(message, attribute) if t.text.strip()]
