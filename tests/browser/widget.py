"""Driving the chat widget in a real browser: open it, send a message, read that turn's replies."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Locator, Page, expect

from bench.stack import Stack

BOT_WAIT_MS = 20_000  # the stack's first turn also loads the model's pipeline


def open_widget(context: BrowserContext, stack: Stack) -> Page:
    """The bureau's page with the widget open."""
    page = context.new_page()
    page.goto(f"{stack.gateway}/#chat")
    expect(page.locator("#hqt-panel")).to_be_visible()
    return page


def ask_turn(page: Page, text: str, parts: str = ".hqt-msg[data-role=bot]") -> list[Locator]:
    """Send ``text`` and return the bot's ``parts`` of that turn (whole messages by default), once it is over."""
    bots = page.locator(parts)
    expect(page.locator("#hqt-send")).to_be_enabled(timeout=BOT_WAIT_MS)
    before = bots.count()
    page.locator("#hqt-input").fill(text)
    page.locator("#hqt-input").press("Enter")
    expect(page.locator(".hqt-msg[data-role=user]").filter(has_text=text).last).to_be_visible()
    expect(page.locator("#hqt-send")).to_be_enabled(timeout=BOT_WAIT_MS)  # the turn is over
    return [bots.nth(i) for i in range(before, bots.count())]
