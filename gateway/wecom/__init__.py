"""WeCom (企业微信): the self-built app's callback and API, and the 智能机器人 group-bot callback."""
