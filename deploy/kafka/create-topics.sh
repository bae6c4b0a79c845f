#!/bin/sh
# Create the topics listed in topics.txt that do not exist yet (kafka-init in docker-compose.yml).
# Usage: create-topics.sh BOOTSTRAP TOPICS_FILE [REPLICATION_FACTOR]
# KAFKA_TOPICS names the kafka-topics command (the tests and ./scripts/run --kafka run it from the
# Kafka jars they fetched; see tests/support/kafka_broker.py).
set -eu
bootstrap="$1"
file="$2"
replication="${3:-1}"
topics="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"

grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$file" | while read -r topic partitions retention; do
  "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor "$replication" \
    --config retention.ms="$retention" --config cleanup.policy=delete
done
"$topics" --bootstrap-server "$bootstrap" --describe --exclude-internal
