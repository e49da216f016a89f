"""``huiwu demo``: the story, told on Telegram or on WeCom."""
