"""The Zalo channel: the Zalo Bot API, and how the bot's Telegram messages read there."""
