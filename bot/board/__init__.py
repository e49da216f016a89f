"""The plan board: one server-rendered page showing the whole plan, opened from inside
Telegram (a Mini App), WeCom (the app homepage, OAuth2 web login) or by a one-time link.

``web`` holds the aiohttp routes, ``auth`` the ways in, ``views`` what each viewer sees,
``actions`` the changes (through the chat handlers), ``files`` the downloads.
"""
