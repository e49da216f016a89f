"""A loopback emulator of the WeCom (企业微信) API, its callback client and simulated members."""
