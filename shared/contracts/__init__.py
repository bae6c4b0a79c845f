"""Event contracts: the pydantic models of every event, grouped by the service that publishes
them. They live in the shared library because publisher and consumers both need them, and a
service never imports another service. Change them additively (new optional fields, new types);
a breaking change is a new ``.vN`` type."""

from . import agreements, intake, sessions  # noqa: F401  (registers the events)
