"""The AsyncAPI 3 document of every event, generated from the event registry so it cannot drift.
The platform's whole document (with the services' own protocols) is ``odr.asyncapi``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .events import CloudEvent, Event, registry


def _ref_name(event_type: str) -> str:
    return event_type.replace(".", "_")


def asyncapi_document(*, version: str = "0.1.0", parts: list[dict[str, Any]] = (),
                      publishers: Mapping[str, Sequence[type[Event]]] | None = None) -> dict[str, Any]:
    """The events from the registry, plus ``parts`` (services' own protocols, such as the
    sessions websocket) merged in: their channels, operations, components and ``x-`` fields.

    ``publishers`` (service name -> the events it publishes, its ``PUBLISHES``) gives the send
    operations and the messages each names; without it, every event of a topic is taken to be
    sent by the service the topic is named for."""
    from . import contracts  # noqa: F401  (import registers every event)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}")}
    for cls in registry.all():
        name = _ref_name(cls.type)
        payload = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in payload.pop("$defs", {}).items():
            schemas[sub_name] = sub
        schemas[name] = payload
        messages[name] = {
            "name": cls.type,
            "title": cls.__name__,
            "summary": cls.summary or (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/cloudevents+json",
            "correlationId": {"location": "$message.payload#/subject", "description": "the case id"},
            "headers": {"type": "object", "description": "CloudEvents 1.0 attributes; `data` carries the payload",
                        "properties": {"type": {"const": cls.type}}},
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
        channel = channels.setdefault(cls.topic, {"address": cls.topic, "description": "Keyed by case id.", "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    if publishers is None:  # the service a topic is named for
        publishers = {topic.split(".")[-1]: [cls for cls in registry.all() if cls.topic == topic] for topic in channels}
    for service, published in publishers.items():
        for topic in sorted({cls.topic for cls in published}):
            operations[f"publish_{_ref_name(topic)}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{topic}"},
                "summary": f"Published by the {service} service through its transactional outbox.",
                "messages": [{"$ref": f"#/channels/{topic}/messages/{_ref_name(cls.type)}"}
                             for cls in published if cls.topic == topic],
            }
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "ODR platform events", "version": version,
                 "description": "Events between ODR services. Structured CloudEvents 1.0 JSON; ids and status only."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
    for part in parts:
        for key, value in part.items():
            if key == "components":
                for section, entries in value.items():
                    document["components"].setdefault(section, {}).update(entries)
            elif isinstance(value, dict):
                document.setdefault(key, {}).update(value)
            else:
                document[key] = value
    return document

