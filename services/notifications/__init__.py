"""Notifications: the in-app feed and live push, email, SMS and signed court webhooks in kk/ru/en,
and reminders."""
