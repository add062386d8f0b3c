"""The delivery engine: messages the bot sends on its own initiative, through an outbox."""
