"""Rasa fixes our launcher installs: validate JSON with pre-built validators.

Stock Rasa 3.6 calls ``jsonschema.validate()`` on every custom-action response (and on every
events-API request), which re-checks the schema against its metaschema each time: most of Rasa's
CPU per custom-action turn. ``jsonschema.validate`` is exactly ``check_schema`` + build a validator
+ ``best_match(iter_errors())``; we do the first two once, so results and errors stay identical.
"""

from __future__ import annotations

import types
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_CACHE: dict[int, tuple[Any, Any]] = {}


def cached_validate(instance: Any, schema: dict[str, Any]) -> None:
    """``jsonschema.validate`` with the validator for ``schema`` built once per schema object."""
    entry = _CACHE.get(id(schema))
    if entry is None or entry[0] is not schema:
        cls = validator_for(schema)
        cls.check_schema(schema)
        entry = (schema, cls(schema))
        _CACHE[id(schema)] = entry
    error = best_match(entry[1].iter_errors(instance))
    if error is not None:
        raise error


def install() -> None:
    """Patch Rasa's action-result and events-API validation to use cached validators."""
    import rasa.server
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    original = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            cached_validate(result, spec)
        except jsonschema.ValidationError:
            # Let Rasa's own method build its exact error message for the invalid result.
            return bool(original(self, result))
        return True

    RemoteAction._validate_action_result = _validate_action_result
    rasa.server.jsonschema = types.SimpleNamespace(
        validate=cached_validate, ValidationError=jsonschema.ValidationError
    )
