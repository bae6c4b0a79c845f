"""The platform's topics as ``deploy/kafka/create-topics.sh`` creates them (the script deployments
and docker-compose's kafka-init run), here with ``kafka-topics`` from the Kafka jars the tests
fetched, on the session's broker: their partition counts and settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.support import kafka_broker
from tests.support.kafka import unique


def deploy_topics() -> dict[str, tuple[int, str]]:
    """``deploy/kafka/topics.txt``: topic -> (partitions, retention.ms)."""
    topics = {}
    for line in Path(kafka_broker.TOPICS_FILE).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, partitions, retention = line.split()
            topics[name] = (int(partitions), retention)
    return topics


async def test_the_topics_of_deploy_kafka_are_created_with_their_partitions_and_retention(kafka, tmp_path):
    if kafka.is_mock:
        pytest.skip(f"kafka-topics needs Java; this run uses {kafka.description}")
    # topics.txt as it is, under fresh names: other tests of the session may have made the real ones.
    prefix = unique("deploy")
    renamed = tmp_path / "topics.txt"
    renamed.write_text("".join(f"{prefix}.{line.lstrip()}\n" if line.strip() and not line.lstrip().startswith("#")
                               else f"{line}\n" for line in Path(kafka_broker.TOPICS_FILE).read_text().splitlines()))
    await asyncio.to_thread(kafka_broker.create_topics, kafka.bootstrap, topics_file=renamed)
    wanted = {f"{prefix}.{name}": spec for name, spec in deploy_topics().items()}
    assert len(wanted) >= 5
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(list(wanted))}
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in wanted])
    finally:
        await admin.close()
    configs = {}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries}
    for topic, (partitions, retention) in wanted.items():
        assert described[topic]["error_code"] == 0, topic
        assert len(described[topic]["partitions"]) == partitions, topic
        assert configs[topic]["retention.ms"] == retention, topic
        assert configs[topic]["cleanup.policy"] == "delete", topic
