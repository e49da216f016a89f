"""The WeCom intelligent robot (智能机器人, API mode): group @-mentions and single chats in,
group answers and announcements out. The robot's protocol stays in this package:

* ``frames``: the robot's JSON messages and events as neutral ``Event``s, chat ids, dedupe;
* ``connection``: the long connection (a WebSocket to WeCom's gateway: subscribe, heartbeat,
  reconnect with backoff and jitter, stop when another connection took over);
* ``receiver``: journal, dedupe and ordered hand-over of what either mode received;
* ``callback``: the callback mode (encrypted JSON at its own path on the HTTP server);
* ``messenger``: sending to robot chats (response_url, active push, card updates) and the
  routing between the robot and the self-built app.
"""
