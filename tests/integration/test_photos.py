"""Photos of a repair: the bytes decide the type, the size is limited, the timeline shows them."""

from __future__ import annotations

import hashlib

from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x11" * 500


async def test_a_photo_is_stored_listed_served_and_on_the_timeline(stack: Stack):
    repair = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    uploaded = await stack.api.post(f"/v1/repairs/{repair['id']}/photos",
                                    files={"file": ("漏水.jpg", JPEG, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    assert photo["content_type"] == "image/jpeg" and photo["size"] == len(JPEG)
    assert photo["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert photo["filename"] == "漏水.jpg"
    served = await stack.api.get(photo["url"])
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg"
    # A PNG sent as "image/jpeg" is stored as what it is.
    png = (await stack.api.post(f"/v1/repairs/{repair['id']}/photos",
                                files={"file": ("x.jpg", PNG, "image/jpeg")})).json()
    assert png["content_type"] == "image/png"
    listed = (await stack.api.get(f"/v1/repairs/{repair['id']}/photos")).json()
    assert [p["id"] for p in listed] == [photo["id"], png["id"]]
    kinds = [e["kind"] for e in (await stack.api.get(f"/v1/repairs/{repair['id']}")).json()[
        "timeline"] if e["kind"] in ("reported", "photo")]  # beside the workflow's steps
    assert kinds == ["reported", "photo", "photo"]


async def test_wrong_type_too_big_and_unknown_repairs_are_refused(stack: Stack):
    repair = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    url = f"/v1/repairs/{repair['id']}/photos"
    text = await stack.api.post(url, files={"file": ("a.jpg", b"not an image", "image/jpeg")})
    assert text.status_code == 415 and text.json()["field"] == "file"
    big = JPEG + b"\x00" * 10_000_001
    too_big = await stack.api.post(url, files={"file": ("big.jpg", big, "image/jpeg")})
    assert too_big.status_code == 413 and too_big.json()["code"] == "photo_too_large"
    missing = await stack.api.post(url)
    assert missing.status_code == 422 and missing.json()["field"] == "file"
    nowhere = await stack.api.post("/v1/repairs/nope/photos",
                                   files={"file": ("a.jpg", JPEG, "image/jpeg")})
    assert nowhere.status_code == 404
    assert (await stack.api.get(f"{url}/not-a-photo")).status_code == 404
    assert (await stack.api.get(url)).json() == []
