"""A real S3-compatible server for tests: moto's server mode on a free local port, in a thread.

Nothing of the storage code is replaced: S3Storage talks HTTP (SigV4-signed, path-style) to it
exactly as it would to a province's object store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3

ACCESS_KEY = "paht-test-access-key"
SECRET_KEY = "paht-test-secret-key"  # moto accepts any pair
REGION = "ap-southeast-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self):
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"paht-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The settings of a `paht serve` process that stores its media in ``bucket``."""
        return {
            "PAHT_STORAGE": "s3",
            "PAHT_S3_ENDPOINT_URL": self.endpoint_url,
            "PAHT_S3_BUCKET": bucket,
            "PAHT_S3_REGION": REGION,
            "PAHT_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "PAHT_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "PAHT_S3_PATH_STYLE": "true",
            "PAHT_S3_PREFIX": prefix,
        }


def run_s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
