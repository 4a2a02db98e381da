"""Outbound webhooks: signed, breaker-protected, delivered at least once through a DynamoDB outbox."""
from chalicelib.webhooks.delivery import WebhookDelivery, WebhookUserEvents

__all__ = ["WebhookDelivery", "WebhookUserEvents"]
