"""The Zalo channel: the same bot for cadres who use Zalo, through a bridge that speaks the
Telegram Bot API to the application and Zalo's Bot API to Zalo."""
