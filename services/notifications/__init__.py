"""Notifications: email, in-app and signed court webhooks in kk/ru/en.
This skeleton turns case events into in-app notifications in a per-recipient feed."""
