"""Photos of a repair (报修照片): uploaded as multipart, checked by their bytes, kept in the
attachment store and listed on the repair's timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, File, Path, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from services.common.errors import Rejection
from services.intake import photos, repository
from services.intake.auth import Authorized, Caller
from services.intake.endpoints import Rt, visible_repair
from services.intake.models import Photo
from services.intake.photos import IMAGE_TYPES

log = structlog.get_logger(__name__)
router = APIRouter(tags=["repairs"])
RepairId = Annotated[str, Path(description="The repair's `id`.",
                               examples=["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])]
PhotoId = Annotated[str, Path(description="The photo's `id`.",
                              examples=["9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64"])]


class PhotoView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64",
        "repair_id": "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "filename": "卫生间渗水.jpg",
        "content_type": "image/jpeg", "size": 284113,
        "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
        "uploaded_at": "2026-06-03T01:25:13Z",
        "url": "/v1/repairs/5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08/photos/"
               "9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64",
    }]})
    id: str
    repair_id: str
    filename: str | None
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    url: str


def photo_view(photo: Photo) -> PhotoView:
    return PhotoView(id=photo.id, repair_id=photo.repair_id, filename=photo.filename,
                     content_type=photo.content_type, size=photo.size, sha256=photo.sha256,
                     uploaded_at=photo.uploaded_at,
                     url=f"/v1/repairs/{photo.repair_id}/photos/{photo.id}")


async def _repair_exists(rt: Rt, caller: Caller, repair_id: str) -> None:
    async with rt.sessions() as session:
        await visible_repair(session, caller, repair_id)


@router.post("/v1/repairs/{repair_id}/photos", status_code=status.HTTP_201_CREATED,
             response_model=PhotoView, summary="Attach a photo (JPEG, PNG, WebP or HEIC)",
             # Bytes have no JSON example: say which types the `file` part may carry.
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "encoding": {"file": {"contentType": ", ".join(IMAGE_TYPES)}}}}}})
async def upload_photo(repair_id: RepairId, rt: Rt, caller: Authorized,
                       file: Annotated[UploadFile, File(
                           description="The photo; its type is read from its bytes.")],
                       ) -> PhotoView:
    """One photo per request, up to the configured size (10 MB by default)."""
    await _repair_exists(rt, caller, repair_id)
    checked = await photos.check(file, max_bytes=rt.photo_max_bytes, field="file")
    async with rt.sessions.begin() as session:
        [photo] = await photos.keep(store=rt.store, session=session, repair_id=repair_id,
                                    photos=[checked], uploaded_at=datetime.now(UTC))
    return photo_view(photo)


@router.get("/v1/repairs/{repair_id}/photos", response_model=list[PhotoView],
            summary="The photos of a repair, oldest first")
async def list_photos(repair_id: RepairId, rt: Rt, caller: Authorized) -> list[PhotoView]:
    await _repair_exists(rt, caller, repair_id)
    async with rt.sessions() as session:
        rows = await repository.photos_of(session=session, repair_id=repair_id)
    return [photo_view(p) for p in rows]


@router.get("/v1/repairs/{repair_id}/photos/{photo_id}", summary="One photo's bytes",
            response_class=Response, responses={200: {
                "description": "The photo as uploaded, with its sniffed type.",
                "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                            for kind in IMAGE_TYPES}}})
async def get_photo(repair_id: RepairId, photo_id: PhotoId, rt: Rt, caller: Authorized) -> Response:
    await _repair_exists(rt, caller, repair_id)
    async with rt.sessions() as session:
        photo = await session.get(Photo, photo_id)
    if photo is None or photo.repair_id != repair_id:
        raise Rejection("photo_not_found", f"No photo {photo_id!r} on repair {repair_id!r}.",
                        "没有找到该照片。", "photo_id", 404)
    try:
        data = await rt.store.get(photo.store_key)
    except FileNotFoundError:  # the store lost it: ours to look into, not the caller's
        log.error("photo file missing", photo_id=photo_id, key=photo.store_key)
        raise Rejection("photo_file_missing", f"Photo {photo_id!r} is recorded but its file "
                        "is missing; it has been logged.", "该照片的文件已丢失，已记录。",
                        "photo_id", 404) from None
    return Response(data, media_type=photo.content_type)
