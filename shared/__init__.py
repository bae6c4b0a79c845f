"""The ODR platform library: what every service shares (config, database, unit of work with
outbox/inbox, CloudEvents, the event bus, auth, problems, observability, the app factory).

A service imports only from here, never from another service.
"""
