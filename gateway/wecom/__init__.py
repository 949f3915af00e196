"""WeCom (企业微信): the self-built app's callback and API, the 智能机器人 group-bot callback, and 微信客服."""
