"""Start the action server on the configured port: ``python -m actions``."""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk.endpoint import run

from actions.gateway_client import HandoffClient
from knowledge.answerable import default_answerability, focus_nouns
from knowledge.search import default_searcher
from knowledge.settings import service_settings
from knowledge.understand import understand


def main() -> None:
    """Open the knowledge base, send any handoff left in the outbox, then serve."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # httpx logs every request URL at INFO, and Rasa's API takes its token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = service_settings()
    default_searcher()  # open the index and load jieba once, before the first request
    # Likewise the term statistics, the POS tagger and the typo vocabulary of answerability.
    warm = understand("专精特新增长补贴有多少")
    default_answerability().matches(warm.text)
    focus_nouns(warm.text)
    sent = asyncio.run(HandoffClient(settings).flush())
    if sent:
        logging.getLogger(__name__).info("sent %d handoff packets left in the outbox", sent)
    run("actions", port=settings.actions_port, auto_reload=False)


if __name__ == "__main__":
    main()
