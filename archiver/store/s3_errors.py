"""S3 failures as StoreErrors whose messages name the bucket or key and say what to do."""

from __future__ import annotations

from typing import Any

from archiver.store.base import LockNotSupported, ObjectExists, ObjectLocked, ObjectNotFound, StoreError

NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})
_AUTH = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"})
# Operations where AccessDenied almost always means Object Lock said no.
_LOCK_GUARDED = frozenset({"delete", "change the retention of"})


def error_code(err: Any) -> str:
    """The S3 error code of a botocore ClientError ("NoSuchKey", "404", ...)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def translate(err: Any, what: str, name: str, bucket: str, where: str) -> StoreError:
    """Map a botocore ClientError raised while trying to ``what`` the object ``name``."""
    code = error_code(err)
    message = str(err.response.get("Error", {}).get("Message", ""))
    if code == "NoSuchBucket":
        return missing_bucket(bucket, where)
    if code in NOT_FOUND:
        return ObjectNotFound(f"{name} does not exist")
    if code == "PreconditionFailed":
        return ObjectExists(f"{name} already exists")
    if code in _AUTH:
        return StoreError(f"S3 at {where} rejected the credentials ({code}); check the access key, "
                          "the secret and this machine's clock", code="store_auth")
    if code == "InvalidRequest" and "ObjectLock" in message:
        return LockNotSupported(f"bucket {bucket} has no Object Lock ({message}); use a bucket "
                                "created with Object Lock enabled")
    if code == "AccessDenied" and what in _LOCK_GUARDED:
        return ObjectLocked(f"S3 refused to {what} {name}: it is under Object Lock, or the "
                            "credentials lack the permission")
    return StoreError(f"S3 refused to {what} {name}: {code} {message}".rstrip())


def missing_bucket(bucket: str, where: str) -> StoreError:
    return StoreError(f"bucket {bucket} does not exist at {where}; create it with Object Lock "
                      "enabled or fix ARSIP_STORE_URL", code="bucket_not_found")


def no_credentials() -> StoreError:
    return StoreError("no S3 credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                      "AWS_PROFILE or an instance role", code="store_auth")


def transport_error(err: Exception, what: str, name: str, where: str) -> StoreError:
    """A request that never got an S3 answer (connection refused, timeout, broken stream)."""
    return StoreError(f"cannot {what} {name} at {where}: {err}; check the endpoint URL and the "
                      "network")
