"""Rasa NLU component: the firm facts a message states, as entities that fill the fact slots.

Facts are parsed deterministically (:func:`knowledge.understand.split_facts`), clause by clause:
only what the owner states about their own firm becomes an entity, not the level or growth rate a
policy question or a hypothetical names. The entities fill slots through ``from_entity`` mappings,
so no action-server round trip is needed on each message. Any other extractor's guesses for these entity
types are dropped: an eligibility verdict must not hinge on them.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from knowledge.understand import identity_facts, split_facts

FACT_ENTITIES = (
    "zjtx_level",
    "growth_pct",
    "shareholding_reform",
    "industry",
    "digital_project",
    "manufacturing",
    "apprenticeship",
    "skill_certification",
    "firm_name",
    "uscc",
    "revenue_wan",
)


def fact_entities(text: str) -> list[dict[str, Any]]:
    """Entities for the facts ``text`` states about the owner's firm (and a credit-code problem)."""
    stated, _, _ = split_facts(text)
    identity, uscc_error = identity_facts(text)
    entities = [
        {"entity": name, "value": value, "start": 0, "end": len(text), "confidence": 1.0}
        for name, value in {**stated, **identity}.items()
    ]
    if uscc_error:
        entities.append(
            {"entity": "uscc_error", "value": uscc_error, "start": 0, "end": len(text), "confidence": 1.0}
        )
    return entities


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class FactExtractor(GraphComponent, EntityExtractorMixin):
    """Adds fact entities and drops any other extractor's guesses for the same entity types."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FactExtractor:
        """A stateless extractor."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace fact-typed entities of each message with the deterministic ones."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or text.startswith("/"):
                continue
            kept = [e for e in message.get(ENTITIES, []) if e.get("entity") not in FACT_ENTITIES]
            found = self.add_extractor_name(fact_entities(text))
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages
