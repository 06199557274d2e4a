"""Webhook endpoints, Standard Webhooks signing and the delivery dispatcher."""
