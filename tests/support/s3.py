"""S3-compatible object storage for tests: moto's S3 server on 127.0.0.1 (a real S3 HTTP API, in a
thread), with one bucket, or the MinIO/S3 named by ``ODR_TEST_S3_ENDPOINT`` and
``ODR_TEST_S3_BUCKET`` (credentials from the usual ``AWS_`` variables)."""

from __future__ import annotations

import contextlib
import os

ACCESS_KEY = SECRET_KEY = "test"  # moto accepts any
BUCKET = "odr-documents"


@contextlib.contextmanager
def s3_server(bucket: str = BUCKET):
    """Yields (endpoint URL, bucket). With moto, sets ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
    for this process while it runs (child processes get them through their environment)."""
    endpoint = os.environ.get("ODR_TEST_S3_ENDPOINT")
    if endpoint:
        yield endpoint, os.environ["ODR_TEST_S3_BUCKET"]
        return
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    try:
        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=bucket)
        yield url, bucket
    finally:
        server.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
