"""精准推送 (issue 16): firm profiles, selecting the firms a published record fits, sending pushes.

To be written.
"""

from __future__ import annotations

from typing import Any

from gateway.services import Services


def record_turn_facts(services: Services, sender_id: str, customs: list[dict[str, Any]]) -> None:
    """Keep the facts an owner stated in a turn (the replies' ``custom["facts"]``) in the profile of the
    firm the conversation is bound to (blocking: run it with ``services.db``)."""
    del services, sender_id, customs
