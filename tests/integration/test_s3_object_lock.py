"""S3 Object Lock through the S3 store, and moto's known gaps pinned down against real S3.

Tests named ``test_moto_gap_*`` assert what moto does *today* where it differs from AWS S3. They
exist so a moto upgrade that closes a gap fails loudly here; then update docs/storage.md and
turn the test into a plain behaviour test. Everything else states behaviour Arsip relies on.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.errors import ObjectNotFound, StoreError
from archiver.store.base import (
    InvalidLock,
    LockMode,
    LockNotSupported,
    LockOptions,
    ObjectExists,
    ObjectLocked,
)
from archiver.store.s3 import MIN_PART_SIZE, S3Store
from tests.support.moto_s3 import create_bucket, moto_s3_server, s3_client, utc_now

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3_server() as url:
        yield url


@pytest.fixture
def client(endpoint: str) -> Any:
    return s3_client(endpoint)


@pytest.fixture
def bucket(endpoint: str) -> str:
    return create_bucket(endpoint)


@pytest.fixture
def store(endpoint: str, bucket: str) -> Iterator[S3Store]:
    with S3Store(bucket, endpoint_url=endpoint, region="us-east-1", part_size=MIN_PART_SIZE,
                 multipart_threshold=MIN_PART_SIZE) as opened:
        yield opened


def in_a_day() -> datetime:
    return (utc_now() + timedelta(days=1)).replace(microsecond=0)


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def versions(client: Any, bucket: str, key: str) -> tuple[list[str], list[str]]:
    listing = client.list_object_versions(Bucket=bucket, Prefix=key)
    return ([v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key],
            [m["VersionId"] for m in listing.get("DeleteMarkers", []) if m["Key"] == key])


# --- what Arsip relies on ------------------------------------------------------------------


def test_bucket_with_object_lock_is_detected(store: S3Store) -> None:
    assert store.supports_object_lock is True


@pytest.mark.parametrize("mode", list(LockMode))
def test_put_with_retention_is_visible_to_a_plain_s3_client(store: S3Store, client: Any,
                                                           bucket: str, mode: LockMode) -> None:
    until = in_a_day()
    result = store.put_bytes("r.warc.gz", b"x", lock=LockOptions(mode, until))
    raw = client.head_object(Bucket=bucket, Key="r.warc.gz")
    assert raw["ObjectLockMode"] == mode.value
    assert raw["ObjectLockRetainUntilDate"] == until
    assert raw["VersionId"] == result.version_id
    assert raw["Metadata"]["sha256"] == hashlib.sha256(b"x").hexdigest()
    info = store.head("r.warc.gz")
    assert info is not None and (info.lock_mode, info.retain_until) == (mode, until)


def test_legal_hold_round_trips(store: S3Store, client: Any, bucket: str) -> None:
    store.put_bytes("h", b"x", lock=LockOptions(LockMode.GOVERNANCE, None, legal_hold=True))
    assert client.get_object_legal_hold(Bucket=bucket, Key="h")["LegalHold"]["Status"] == "ON"
    store.set_legal_hold("h", False)
    assert client.get_object_legal_hold(Bucket=bucket, Key="h")["LegalHold"]["Status"] == "OFF"
    store.set_legal_hold("h", True)
    info = store.head("h")
    assert info is not None and info.legal_hold


def test_server_refuses_deleting_a_locked_version(store: S3Store, client: Any, bucket: str) -> None:
    result = store.put_bytes("c", b"x", lock=LockOptions(LockMode.COMPLIANCE, in_a_day()))
    with pytest.raises(ClientError) as caught:
        client.delete_object(Bucket=bucket, Key="c", VersionId=result.version_id)
    assert error_code(caught) == "AccessDenied"


def test_server_refuses_deleting_a_governance_version_without_bypass(store: S3Store, client: Any,
                                                                     bucket: str) -> None:
    result = store.put_bytes("g", b"x", lock=LockOptions(LockMode.GOVERNANCE, in_a_day()))
    with pytest.raises(ClientError) as caught:
        client.delete_object(Bucket=bucket, Key="g", VersionId=result.version_id)
    assert error_code(caught) == "AccessDenied"


def test_store_delete_of_a_locked_object_leaves_it_visible(store: S3Store, client: Any,
                                                           bucket: str) -> None:
    # A bare DELETE would add a delete marker and hide the object; the store must not.
    store.put_bytes("kept", b"x", lock=LockOptions(LockMode.GOVERNANCE, in_a_day()))
    with pytest.raises(ObjectLocked):
        store.delete("kept")
    assert store.get_bytes("kept") == b"x"
    assert versions(client, bucket, "kept")[1] == []


def test_store_delete_destroys_every_version(store: S3Store, client: Any, bucket: str) -> None:
    for content in (b"one", b"two", b"three"):
        store.put_bytes("v", content)
    client.delete_object(Bucket=bucket, Key="v")  # someone else's delete marker
    assert len(versions(client, bucket, "v")[0]) == 3
    store.delete("v")
    assert versions(client, bucket, "v") == ([], [])


def test_overwriting_a_locked_key_keeps_the_locked_version(store: S3Store, client: Any,
                                                           bucket: str) -> None:
    store.put_bytes("o", b"original", lock=LockOptions(LockMode.COMPLIANCE, in_a_day()))
    store.put_bytes("o", b"newer")
    assert store.get_bytes("o") == b"newer"
    assert len(versions(client, bucket, "o")[0]) == 2
    with pytest.raises(ObjectLocked):
        store.delete("o")


def test_multipart_upload_ends_up_locked_and_hashed(store: S3Store) -> None:
    data = os.urandom(MIN_PART_SIZE + 1234)
    until = in_a_day()
    store.put_bytes("mp", data, lock=LockOptions(LockMode.COMPLIANCE, until, legal_hold=True))
    info = store.head("mp")
    assert info is not None
    assert (info.lock_mode, info.retain_until, info.legal_hold) == (LockMode.COMPLIANCE, until, True)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [10, MIN_PART_SIZE + 2])
def test_if_absent_is_enforced_by_the_server_when_the_precheck_misses(
        store: S3Store, client: Any, bucket: str, size: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate the race the HEAD pre-check cannot close: another writer lands in between.
    store.put_bytes("race", b"first writer")
    monkeypatch.setattr(store, "_head_raw", lambda key, version_id=None: None)
    with pytest.raises(ObjectExists):
        store.put_bytes("race", b"y" * size, if_absent=True)
    monkeypatch.undo()
    assert store.get_bytes("race") == b"first writer"
    assert len(versions(client, bucket, "race")[0]) == 1


def test_bucket_without_object_lock_is_reported_and_lock_requests_refused(endpoint: str,
                                                                         client: Any) -> None:
    bucket = create_bucket(endpoint, object_lock=False)
    with S3Store(bucket, endpoint_url=endpoint, region="us-east-1") as store:
        assert store.supports_object_lock is False
        with pytest.raises(LockNotSupported) as caught:
            store.put_bytes("x", b"1", lock=LockOptions(LockMode.GOVERNANCE, in_a_day()))
        assert caught.value.code == "object_lock_unsupported"
        assert store.head("x") is None
        store.put_bytes("x", b"1")
        with pytest.raises(LockNotSupported):
            store.set_legal_hold("x", True)
        store.delete("x")
        assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_bucket_default_retention_is_reported_by_head(endpoint: str) -> None:
    bucket = create_bucket(endpoint, default_retention=("GOVERNANCE", 1))
    with S3Store(bucket, endpoint_url=endpoint, region="us-east-1") as store:
        store.put_bytes("d", b"x")
        info = store.head("d")
        assert info is not None and info.lock_mode is LockMode.GOVERNANCE
        with pytest.raises(ObjectLocked):
            store.delete("d")


def test_missing_bucket_error_names_it_and_says_what_to_do(endpoint: str) -> None:
    with S3Store("arsip-no-such-bucket", endpoint_url=endpoint, region="us-east-1") as store:
        for attempt in (lambda: store.head("k"), lambda: list(store.list()),
                        lambda: store.put_bytes("k", b"x")):
            with pytest.raises(StoreError) as caught:
                attempt()
            assert caught.value.code == "bucket_not_found"
            assert "arsip-no-such-bucket" in str(caught.value) and "Object Lock" in str(caught.value)


def test_reading_an_object_whose_bytes_disagree_with_its_checksum_fails(store: S3Store,
                                                                       client: Any,
                                                                       bucket: str) -> None:
    # botocore checks the stored SHA-256 on full reads; the store surfaces that as StoreError.
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    client.put_object(Bucket=bucket, Key="bent", Body=b"bytes", ChecksumAlgorithm="SHA256",
                      ChecksumSHA256=wrong)
    with pytest.raises(StoreError, match="bent"):
        store.get_bytes("bent")


def test_unreachable_endpoint_is_a_store_error() -> None:
    store = S3Store("some-bucket", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with store, pytest.raises(StoreError, match="endpoint"):
        store.head("k")


# --- moto's gaps, pinned ---------------------------------------------------------------------


def test_moto_gap_get_object_retention_is_not_implemented(store: S3Store, client: Any,
                                                          bucket: str) -> None:
    # Real S3 returns the retention; moto answers 500. Arsip reads retention from HEAD instead.
    store.put_bytes("r", b"x", lock=LockOptions(LockMode.GOVERNANCE, in_a_day()))
    with pytest.raises(ClientError) as caught:
        client.get_object_retention(Bucket=bucket, Key="r")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_moto_gap_compliance_retention_can_be_shortened(store: S3Store, client: Any,
                                                        bucket: str) -> None:
    # Real S3 refuses (AccessDenied). The store refuses too, by checking before it asks.
    until = in_a_day()
    store.put_bytes("c", b"x", lock=LockOptions(LockMode.COMPLIANCE, until))
    with pytest.raises(ObjectLocked):
        store.set_retention("c", LockMode.COMPLIANCE, until - timedelta(hours=1))
    client.put_object_retention(Bucket=bucket, Key="c", Retention={
        "Mode": "COMPLIANCE", "RetainUntilDate": until - timedelta(hours=1)})
    assert client.head_object(Bucket=bucket, Key="c")["ObjectLockRetainUntilDate"] == (
        until - timedelta(hours=1))


def test_moto_gap_compliance_can_be_switched_to_governance(store: S3Store, client: Any,
                                                           bucket: str) -> None:
    # Real S3 refuses any mode change of an active COMPLIANCE retention.
    store.put_bytes("c", b"x", lock=LockOptions(LockMode.COMPLIANCE, in_a_day()))
    with pytest.raises(ObjectLocked):
        store.set_retention("c", LockMode.GOVERNANCE, in_a_day() + timedelta(days=1))
    client.put_object_retention(Bucket=bucket, Key="c", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": in_a_day()})
    assert client.head_object(Bucket=bucket, Key="c")["ObjectLockMode"] == "GOVERNANCE"


def test_moto_gap_governance_can_be_shortened_without_bypass(store: S3Store, client: Any,
                                                             bucket: str) -> None:
    # Real S3 requires x-amz-bypass-governance-retention (and the permission) to shorten.
    until = in_a_day()
    store.put_bytes("g", b"x", lock=LockOptions(LockMode.GOVERNANCE, until))
    client.put_object_retention(Bucket=bucket, Key="g", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": until - timedelta(hours=2)})
    assert client.head_object(Bucket=bucket, Key="g")["ObjectLockRetainUntilDate"] == (
        until - timedelta(hours=2))


def test_moto_gap_governance_bypass_needs_no_permission(store: S3Store, client: Any,
                                                        bucket: str) -> None:
    # Real S3 honours x-amz-bypass-governance-retention only for principals granted
    # s3:BypassGovernanceRetention; moto checks no permission. Arsip never sends the header.
    result = store.put_bytes("g", b"x", lock=LockOptions(LockMode.GOVERNANCE, in_a_day()))
    client.delete_object(Bucket=bucket, Key="g", VersionId=result.version_id,
                         BypassGovernanceRetention=True)
    assert versions(client, bucket, "g") == ([], [])


def test_moto_gap_retain_until_in_the_past_is_accepted(store: S3Store, client: Any,
                                                       bucket: str) -> None:
    # Real S3 refuses a past retain-until date; the store refuses it before sending.
    past = utc_now() - timedelta(days=1)
    with pytest.raises(InvalidLock):
        store.put_bytes("p", b"x", lock=LockOptions(LockMode.COMPLIANCE, past))
    client.put_object(Bucket=bucket, Key="p", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=past)
    assert client.head_object(Bucket=bucket, Key="p")["ObjectLockMode"] == "COMPLIANCE"


def test_moto_gap_lock_headers_on_multipart_create_are_ignored(client: Any, bucket: str) -> None:
    # Real S3 locks the completed object; moto drops the headers. The store re-applies the
    # lock after completing (test_multipart_upload_ends_up_locked_and_hashed).
    upload = client.create_multipart_upload(Bucket=bucket, Key="m", ObjectLockMode="GOVERNANCE",
                                            ObjectLockRetainUntilDate=in_a_day(),
                                            ObjectLockLegalHoldStatus="ON")
    part = client.upload_part(Bucket=bucket, Key="m", UploadId=upload["UploadId"], PartNumber=1,
                              Body=b"x")
    client.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": part["ETag"],
                                                                 "PartNumber": 1}]})
    head = client.head_object(Bucket=bucket, Key="m")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head


def test_moto_gap_sha256_checksums_are_not_verified(client: Any, bucket: str) -> None:
    # Real S3 answers BadDigest when x-amz-checksum-sha256 does not match the body, which is
    # what protects Arsip's uploads in transit; moto stores the body and the wrong checksum.
    # (botocore then rejects the object on a full GET, so reads would still notice.)
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    client.put_object(Bucket=bucket, Key="w", Body=b"body", ChecksumAlgorithm="SHA256",
                      ChecksumSHA256=wrong)
    head = client.head_object(Bucket=bucket, Key="w", ChecksumMode="ENABLED")
    assert (head["ContentLength"], head["ChecksumSHA256"]) == (4, wrong)


@pytest.mark.parametrize("operation", ["legal_hold", "retention"])
def test_moto_gap_lock_calls_on_a_missing_key_fail_with_500(client: Any, bucket: str,
                                                            store: S3Store, operation: str) -> None:
    # Real S3 answers NoSuchKey; the store HEADs first and raises ObjectNotFound either way.
    with pytest.raises(ClientError) as caught:
        if operation == "legal_hold":
            client.put_object_legal_hold(Bucket=bucket, Key="absent", LegalHold={"Status": "ON"})
        else:
            client.put_object_retention(Bucket=bucket, Key="absent", Retention={
                "Mode": "GOVERNANCE", "RetainUntilDate": in_a_day()})
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(ObjectNotFound):
        store.set_legal_hold("absent", True)


def test_moto_gap_default_retention_needs_an_empty_bucket(client: Any, bucket: str) -> None:
    # Real S3 lets you set or change a bucket's default retention at any time.
    client.put_object(Bucket=bucket, Key="first", Body=b"x")
    with pytest.raises(ClientError) as caught:
        client.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    assert error_code(caught) == "InvalidBucket"


def test_moto_gap_multipart_checksum_lacks_the_part_count_suffix(store: S3Store, client: Any,
                                                                 bucket: str) -> None:
    # Real S3 reports a composite checksum as "<base64>-<parts>"; moto omits "-<parts>", so it
    # looks like a whole-object SHA-256 but is not one. Arsip uses only x-amz-meta-sha256.
    data = os.urandom(MIN_PART_SIZE + 1)
    store.put_bytes("mp", data)
    head = client.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    reported = head["ChecksumSHA256"]
    assert "-" not in reported
    assert base64.b64decode(reported) != hashlib.sha256(data).digest()
