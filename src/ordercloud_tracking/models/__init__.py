"""Pydantic wire models: tracking events, delivery configurations, commerce objects, tokens."""
