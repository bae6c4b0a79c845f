"""Event bus: one interface, an embedded durable log and Kafka, chosen by configuration only."""

from __future__ import annotations

from .base import BatchHandler, Consumer, EventBus, Message, Record, partition_for

__all__ = ["BatchHandler", "Consumer", "EventBus", "Message", "Record", "create_bus", "partition_for"]


def create_bus(settings) -> EventBus:
    if settings.bus == "kafka":
        from .kafka import KafkaBus  # imported lazily: aiokafka is in the `kafka` dependency group

        return KafkaBus(settings.kafka_bootstrap, client_id=settings.kafka_client_id)
    from .embedded import EmbeddedBus

    return EmbeddedBus(settings.resolved_bus_path, poll_seconds=settings.consumer_poll_seconds)
