"""The WeChat channel (Official Account 公众号): the message codec, the callback, the adapter."""
