"""The platform in its production shape, started once for the tests of this package: the four
services as ``odr serve`` processes (two of each on a real broker), a PostgreSQL database each,
Apache Kafka, an SMTP server and an S3 server.

Starting it is the most expensive thing the suite does (eight Python processes importing the
whole platform on two cores), so the settlement walk with its crashes and the revocation walk
share one. The settlement walk leaves every process serving again before it returns; the
revocation walk files its own case."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.services.notifications.servers import MailServer
from tests.support.databases import service_databases

from .test_multiprocess import running_platform


@pytest.fixture(scope="package")
def mail():
    """The mail catcher compose runs (mailpit), as a local SMTP server."""
    with MailServer() as server:
        yield server


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def platform(tmp_path_factory, kafka, mail):
    # librdkafka's mock cluster (a machine without Java) cannot rebalance groups of several members.
    replicas = 1 if kafka.is_mock else 2
    async with service_databases() as databases, \
            running_platform(tmp_path_factory.mktemp("platform"), kafka, databases, mail, replicas=replicas) as running:
        yield running
