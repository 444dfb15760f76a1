"""The WhatsApp channel (Meta's Cloud API): a thin Graph client, the webhook, the adapter."""
