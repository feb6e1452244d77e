"""S3 and S3-compatible storage (AWS, MinIO, Ceph RGW) with Object Lock; the only home of boto3.

boto3 is imported when an :class:`S3Store` is created, never at module import, so the rest of
Arsip runs without it installed.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from archiver.clock import Clock
from archiver.store.base import (
    MAX_KEY_BYTES,
    BadKey,
    BaseStore,
    LockDefaults,
    LockMode,
    LockOptions,
    ObjectExists,
    ObjectInfo,
    ObjectLocked,
    ObjectNotFound,
    PutResult,
    StoreError,
    check_retention_change,
    is_valid_key,
    lock_reason,
    validate_key,
)
from archiver.store.s3_errors import (
    NOT_FOUND,
    error_code,
    missing_bucket,
    no_credentials,
    translate,
    transport_error,
)
from archiver.store.streams import (
    PartScan,
    ReadableBody,
    SeekableSource,
    SliceReader,
    scan_parts,
    seekable_source,
)

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 16 * MIB
DEFAULT_MULTIPART_THRESHOLD = 16 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
MAX_PARTS = 10_000

_log = logging.getLogger(__name__)


class S3Store(BaseStore):
    """Objects in one bucket under an optional key prefix.

    Credentials come from boto3's usual chain (environment, profile, instance role) unless given
    here; they never appear in :attr:`url` or messages. Every object gets its sha256 as user
    metadata (``x-amz-meta-sha256``) and S3-verified SHA-256 checksums for the bytes in transit.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, session_token: str | None = None,
                 part_size: int = DEFAULT_PART_SIZE,
                 multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD, page_size: int = 1000,
                 clock: Clock | None = None, lock_defaults: LockDefaults | None = None) -> None:
        super().__init__(clock=clock, lock_defaults=lock_defaults)
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size {part_size} is below S3's minimum of {MIN_PART_SIZE}")
        prefix = prefix.strip("/")
        self._bucket = bucket
        self._prefix = validate_key(prefix) + "/" if prefix else ""
        self._endpoint = endpoint_url
        self._part_size = part_size
        self._threshold = max(multipart_threshold, 0)
        self._page_size = page_size
        self._lock_support: bool | None = None
        self._versioned: bool | None = None
        self._bucket_seen = False
        import boto3  # lazy: boto3 is an optional dependency
        from botocore import exceptions
        from botocore.config import Config

        self._errors = exceptions
        session = boto3.session.Session(aws_access_key_id=access_key_id,
                                        aws_secret_access_key=secret_access_key,
                                        aws_session_token=session_token, region_name=region)
        config = Config(retries={"max_attempts": 5, "mode": "standard"},
                        s3={"addressing_style": "path"} if endpoint_url else {})
        self._client = session.client("s3", endpoint_url=endpoint_url, config=config)

    @property
    def url(self) -> str:
        return f"s3://{self._bucket}/{self._prefix.rstrip('/')}".rstrip("/")

    @property
    def supports_object_lock(self) -> bool:
        if self._lock_support is None:
            config = self._call("read the Object Lock configuration of", None,
                                self._client.get_object_lock_configuration,
                                tolerate=frozenset({"ObjectLockConfigurationNotFoundError"}))
            enabled = (config or {}).get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
            self._lock_support = enabled == "Enabled"
        return self._lock_support

    def close(self) -> None:
        self._client.close()

    # --- plumbing -------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        full = self._prefix + key
        if len(full.encode("utf-8")) > MAX_KEY_BYTES:
            raise BadKey(f"object key {key[:60]!r}... with prefix {self._prefix!r} exceeds "
                         f"{MAX_KEY_BYTES} bytes")
        return full

    def _where(self) -> str:
        return self._endpoint or "AWS S3"

    def _call(self, what: str, key: str | None, method: Callable[..., Any], *,
              tolerate: frozenset[str] = frozenset(), **kwargs: Any) -> Any:
        """Call boto3, turning its errors into StoreErrors that say what to do.

        Error codes in ``tolerate`` make the call return None instead of raising.
        """
        try:
            return method(Bucket=self._bucket, **kwargs)
        except self._errors.ClientError as err:
            if error_code(err) in tolerate:
                return None
            raise self._translate(err, what, key) from err
        except self._errors.BotoCoreError as err:
            raise self._transport_error(err, what, key) from err

    def _name(self, key: str | None) -> str:
        return f"s3://{self._bucket}/{self._prefix}{key}" if key else f"bucket {self._bucket}"

    def _translate(self, err: Any, what: str, key: str | None) -> StoreError:
        return translate(err, what, self._name(key), self._bucket, self._where())

    def _transport_error(self, err: Exception, what: str, key: str | None) -> StoreError:
        if isinstance(err, self._errors.NoCredentialsError):
            return no_credentials()
        return transport_error(err, what, self._name(key), self._where())

    def _ensure_bucket(self) -> None:
        """HEAD answers 404 without a body for a missing bucket too; tell the two apart."""
        if not self._bucket_seen:
            found = self._call("find", None, self._client.head_bucket,
                               tolerate=NOT_FOUND | {"NoSuchBucket"})
            if found is None:
                raise missing_bucket(self._bucket, self._where())
            self._bucket_seen = True

    def _head_raw(self, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        response = self._call("inspect", key, self._client.head_object, tolerate=NOT_FOUND,
                              Key=self._full(key), **extra)
        if response is None:
            self._ensure_bucket()
        return response

    # --- writing --------------------------------------------------------------------------

    def _put_stream(self, key: str, stream: BinaryIO, content_type: str,
                    lock: LockOptions | None, if_absent: bool) -> PutResult:
        if if_absent and self._head_raw(key) is not None:
            # Fail before uploading gigabytes; IfNoneMatch below still decides atomically.
            raise ObjectExists(f"{self._name(key)} already exists")
        source = seekable_source(stream)
        try:
            part_size = max(self._part_size, -(-source.size // MAX_PARTS))
            scan = scan_parts(source, part_size)
            extra: dict[str, Any] = {"ContentType": content_type, **_lock_args(lock),
                                     "Metadata": {"sha256": scan.sha256.hex()}}
            if source.size <= self._threshold:
                response = self._put_single(key, source, scan, extra, if_absent)
            else:
                response = self._put_multipart(key, source, scan, part_size, extra, if_absent)
        finally:
            source.close()
        version = response.get("VersionId")
        if lock is not None:
            self._ensure_lock_landed(key, version, lock)
        return PutResult(key, source.size, scan.sha256.hex(), version)

    def _put_single(self, key: str, source: SeekableSource, scan: PartScan,
                    extra: dict[str, Any], if_absent: bool) -> dict[str, Any]:
        conditional: dict[str, Any] = {"IfNoneMatch": "*"} if if_absent else {}
        return self._call("write", key, self._client.put_object, Key=self._full(key),
                          Body=SliceReader(source.stream, source.start, source.size),
                          ContentLength=source.size, ChecksumAlgorithm="SHA256",
                          ChecksumSHA256=_b64(scan.sha256), **extra, **conditional)

    def _put_multipart(self, key: str, source: SeekableSource, scan: PartScan, part_size: int,
                       extra: dict[str, Any], if_absent: bool) -> dict[str, Any]:
        full = self._full(key)
        created = self._call("start a multipart upload of", key,
                             self._client.create_multipart_upload, Key=full,
                             ChecksumAlgorithm="SHA256", **extra)
        upload_id = created["UploadId"]
        try:
            parts = []
            for index, digest in enumerate(scan.part_sha256):
                offset = index * part_size
                length = min(part_size, source.size - offset)
                body = SliceReader(source.stream, source.start + offset, length)
                sent = self._call("upload a part of", key, self._client.upload_part, Key=full,
                                  UploadId=upload_id, PartNumber=index + 1, Body=body,
                                  ContentLength=length, ChecksumAlgorithm="SHA256",
                                  ChecksumSHA256=_b64(digest))
                parts.append({"ETag": sent["ETag"], "PartNumber": index + 1,
                              "ChecksumSHA256": _b64(digest)})
            conditional: dict[str, Any] = {"IfNoneMatch": "*"} if if_absent else {}
            return self._call("complete the upload of", key,
                              self._client.complete_multipart_upload, Key=full,
                              UploadId=upload_id, MultipartUpload={"Parts": parts}, **conditional)
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._full(key),
                                                UploadId=upload_id)
        except (self._errors.ClientError, self._errors.BotoCoreError) as err:
            _log.warning("could not abort multipart upload %s of %s (%s); an "
                         "AbortIncompleteMultipartUpload lifecycle rule will clean it up",
                         upload_id, self._name(key), err)

    def _ensure_lock_landed(self, key: str, version_id: str | None, lock: LockOptions) -> None:
        """Re-apply lock headers a backend ignored (moto does on multipart uploads)."""
        info = self._info(key, self._head_raw(key, version_id) or {})
        version: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        if lock.retain_until and (info.retain_until is None or info.retain_until < lock.retain_until
                                  or info.lock_mode != lock.mode):
            _log.warning("%s was stored without the requested retention; setting it again",
                         self._name(key))
            self._call("change the retention of", key, self._client.put_object_retention,
                       Key=self._full(key), **version, Retention={
                           "Mode": str(lock.mode), "RetainUntilDate": lock.retain_until})
        if lock.legal_hold and not info.legal_hold:
            _log.warning("%s was stored without the requested legal hold; setting it again",
                         self._name(key))
            self._call("set the legal hold of", key, self._client.put_object_legal_hold,
                       Key=self._full(key), **version, LegalHold={"Status": "ON"})

    # --- reading --------------------------------------------------------------------------

    def _open(self, key: str) -> BinaryIO:
        response = self._call("read", key, self._client.get_object, Key=self._full(key))
        name = self._name(key)

        def failed(err: Exception) -> Exception | None:
            if isinstance(err, self._errors.BotoCoreError):
                return StoreError(f"reading {name} failed mid-stream: {err}; retry the read")
            return None

        return io.BufferedReader(ReadableBody(response["Body"], failed), buffer_size=MIB)

    def _get_range(self, key: str, offset: int, length: int) -> bytes:
        response = self._call("read", key, self._client.get_object, tolerate=frozenset({"InvalidRange"}),
                              Key=self._full(key), Range=f"bytes={offset}-{offset + length - 1}")
        if response is None:
            return b""  # the range starts at or past the end of an existing object
        with response["Body"] as body:
            return body.read()

    def _head(self, key: str) -> ObjectInfo | None:
        response = self._head_raw(key)
        return self._info(key, response) if response is not None else None

    def _info(self, key: str, response: dict[str, Any]) -> ObjectInfo:
        sha256 = response.get("Metadata", {}).get("sha256")
        mode = response.get("ObjectLockMode")
        return ObjectInfo(key=key, size=response.get("ContentLength", 0),
                          sha256=sha256 if _is_sha256_hex(sha256) else None,
                          last_modified=_utc(response.get("LastModified")),
                          retain_until=_utc(response.get("ObjectLockRetainUntilDate")),
                          lock_mode=LockMode(mode) if mode else None,
                          legal_hold=response.get("ObjectLockLegalHoldStatus") == "ON")

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix,
                                   PaginationConfig={"PageSize": self._page_size})
        for page in self._guarded_pages(pages, "list"):
            for item in page.get("Contents", []):
                key = item["Key"][len(self._prefix):]
                if is_valid_key(key):
                    yield ObjectInfo(key, item["Size"], None, _utc(item.get("LastModified")),
                                     None, None, False)

    def _guarded_pages(self, pages: Any, what: str) -> Iterator[dict[str, Any]]:
        iterator = iter(pages)
        while True:
            try:
                page = next(iterator)
            except StopIteration:
                return
            except self._errors.ClientError as err:
                raise self._translate(err, what, None) from err
            except self._errors.BotoCoreError as err:
                raise self._transport_error(err, what, None) from err
            yield page

    # --- deleting and locking -------------------------------------------------------------

    def _delete(self, key: str) -> None:
        """Destroy every stored version of ``key`` (a bare DELETE would only hide it)."""
        if not self._is_versioned():
            if self._head_raw(key) is None:
                raise ObjectNotFound(f"{self._name(key)} does not exist")
            self._call("delete", key, self._client.delete_object, Key=self._full(key))
            return
        versions, markers = self._versions_of(key)
        if not versions:
            self._ensure_bucket()
            raise ObjectNotFound(f"{self._name(key)} does not exist")
        now = self._clock.now()
        for version_id in versions:
            reason = lock_reason(self._info(key, self._head_raw(key, version_id) or {}), now)
            if reason:
                raise ObjectLocked(f"cannot delete {self._name(key)} (version {version_id}): {reason}")
        for version_id in versions + markers:
            self._call("delete", key, self._client.delete_object, Key=self._full(key),
                       VersionId=version_id)

    def _is_versioned(self) -> bool:
        if self._versioned is None:
            status = self._call("read versioning of", None, self._client.get_bucket_versioning)
            self._versioned = status.get("Status") in ("Enabled", "Suspended")
        return self._versioned

    def _versions_of(self, key: str) -> tuple[list[str], list[str]]:
        full = self._full(key)
        versions: list[str] = []
        markers: list[str] = []
        pages = self._client.get_paginator("list_object_versions").paginate(
            Bucket=self._bucket, Prefix=full)
        for page in self._guarded_pages(pages, "list versions"):
            entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
            versions += [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == full]
            markers += [m["VersionId"] for m in page.get("DeleteMarkers", []) if m["Key"] == full]
            if any(entry["Key"] > full for entry in entries):
                break  # keys come sorted; everything after this belongs to longer keys
        return versions, markers

    def _current(self, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        response = self._head_raw(key)
        if response is None:
            raise ObjectNotFound(f"{self._name(key)} does not exist")
        version: dict[str, Any] = {"VersionId": response["VersionId"]} if response.get("VersionId") else {}
        return response, version

    def _set_legal_hold(self, key: str, on: bool) -> None:
        _, version = self._current(key)
        self._call("set the legal hold of", key, self._client.put_object_legal_hold,
                   Key=self._full(key), **version, LegalHold={"Status": "ON" if on else "OFF"})

    def _set_retention(self, key: str, mode: LockMode, retain_until: datetime) -> None:
        response, version = self._current(key)
        # Checked here as well as by S3: some S3-compatible servers (and moto) let it shorten.
        check_retention_change(key, self._info(key, response), mode, retain_until,
                               self._clock.now())
        self._call("change the retention of", key, self._client.put_object_retention,
                   Key=self._full(key), **version,
                   Retention={"Mode": str(mode), "RetainUntilDate": retain_until})


def _lock_args(lock: LockOptions | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if lock is not None and lock.retain_until is not None:
        args.update(ObjectLockMode=str(lock.mode), ObjectLockRetainUntilDate=lock.retain_until)
    if lock is not None and lock.legal_hold:
        args["ObjectLockLegalHoldStatus"] = "ON"
    return args


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _is_sha256_hex(value: str | None) -> bool:
    return value is not None and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
