"""A loopback emulator of the Telegram Bot API and its simulated people."""
