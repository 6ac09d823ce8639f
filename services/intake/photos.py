"""Photos of a repair (报修照片): checked by their bytes and size before anything is kept,
then stored in the attachment store and recorded against the repair. Used by the photo
upload and by a report filed with its photos (`POST /v1/repairs` as multipart)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from services.common.errors import Rejection
from services.intake.models import Photo
from services.intake.storage import AttachmentStore

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
_EXTENSION = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "image/heic": "heic"}
_CHUNK = 64 * 1024


def sniff(head: bytes) -> str | None:
    """The image type from its first bytes; a declared content type is not trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    return None


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed the checks and is not stored yet."""

    filename: str | None
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


async def check(upload: UploadFile, *, max_bytes: int, field: str) -> CheckedPhoto:
    """Read an uploaded photo, refusing one too large (413) or not an image (415)."""
    data = bytearray()
    while chunk := await upload.read(_CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise Rejection("photo_too_large",
                            f"A photo may be at most {max_bytes // 1_000_000} MB.",
                            f"照片不能超过{max_bytes // 1_000_000}MB。", field, 413)
    kind = sniff(bytes(data[:16]))
    if kind is None:
        raise Rejection("unsupported_photo", "Only JPEG, PNG, WebP or HEIC photos are taken.",
                        "仅支持JPEG、PNG、WebP或HEIC格式的照片。", field, 415)
    # A file name is only a label: keep what PostgreSQL can store (no NUL, no surrogates).
    name = "".join(ch for ch in upload.filename or "" if ch.isprintable())[:200]
    return CheckedPhoto(filename=name or None, content_type=kind, data=bytes(data))


async def keep(*, store: AttachmentStore, session: AsyncSession, repair_id: str,
               photos: Sequence[CheckedPhoto], uploaded_at: datetime) -> list[Photo]:
    """Store the photos' bytes, then add their rows to the session: a row never points at
    nothing, and bytes whose rows are not committed are only unreferenced files."""
    kept = []
    for photo in photos:
        photo_id = str(uuid.uuid4())
        key = f"{repair_id}/{photo_id}.{_EXTENSION[photo.content_type]}"
        await store.put(key, photo.data)
        row = Photo(id=photo_id, repair_id=repair_id, store_key=key, filename=photo.filename,
                    content_type=photo.content_type, size=len(photo.data),
                    sha256=photo.sha256, uploaded_at=uploaded_at)
        session.add(row)
        kept.append(row)
    return kept
