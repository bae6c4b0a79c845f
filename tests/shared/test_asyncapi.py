"""The AsyncAPI document is generated from the event registry."""

from __future__ import annotations

from shared.asyncapi import asyncapi_document
from shared.contracts.intake import CaseFiled


def test_every_registered_event_is_documented_with_its_schema():
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    channel = doc["channels"]["odr.intake"]
    assert "odr_case_filed_v1" in channel["messages"]
    message = doc["components"]["messages"]["odr_case_filed_v1"]
    assert message["name"] == CaseFiled.type
    schema = doc["components"]["schemas"]["odr_case_filed_v1"]
    assert set(schema["required"]) >= {"case_id", "jurisdiction", "category", "filed_at"}
    for op in doc["operations"].values():
        assert op["channel"]["$ref"].removeprefix("#/channels/") in doc["channels"]


def test_events_carry_no_free_text_fields():
    """Confidentiality: event payloads hold ids, codes and times, never descriptions or names."""
    from shared.events import registry
    from shared import contracts  # noqa: F401

    forbidden = {"description", "name", "text", "answers", "terms", "message", "body"}
    for cls in registry.all():
        if cls.type.startswith("odr.test."):
            continue
        assert not forbidden & set(cls.model_fields), cls.type


def test_the_platform_document_includes_the_sessions_websocket_protocol():
    from odr.asyncapi import platform_asyncapi

    doc = platform_asyncapi()
    assert "odr.intake" in doc["channels"] and "sessions_room" in doc["channels"]
    assert "odr_case_filed_v1" in doc["components"]["messages"]
    assert any(op["channel"]["$ref"] == "#/channels/sessions_room" for op in doc["operations"].values())
    assert "4010" in doc["x-close-codes"]


def test_the_platform_document_names_what_each_service_sends():
    """Read from the services' ``PUBLISHES``: every contract event is sent by one operation."""
    from odr.asyncapi import platform_asyncapi
    from shared.events import registry

    doc = platform_asyncapi()
    sent: dict[str, str] = {}
    for name, op in doc["operations"].items():
        for ref in op.get("messages", []) if op["action"] == "send" else []:
            topic, _, message = ref["$ref"].removeprefix("#/channels/").partition("/messages/")
            assert message in doc["channels"][topic]["messages"]
            assert message not in sent, f"{message} is sent by {sent[message]} and {name}"
            sent[message] = name
    contract = {cls.type.replace(".", "_") for cls in registry.all() if cls.__module__.startswith("shared.contracts.")}
    assert contract <= set(sent)
    assert sent["odr_agreement_signature_added_v1"] == "publish_odr_agreements"
