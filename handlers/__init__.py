"""What each command and message does, for every platform alike.

Handlers see a ``bot.core.messaging.Event`` and answer through ``HandlerContext``; they never
import telegram or wechatpy. ``handlers.router.dispatch`` is the one entry point.
"""
