"""The WeCom (企业微信) adapter (wechatpy): callbacks in, API calls out, the group chat."""
