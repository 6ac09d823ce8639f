"""Photos of a repair: the bytes decide the type, the size is limited, the timeline shows them."""

from __future__ import annotations

import hashlib
import json

from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT, count_rows

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


def filed(report: dict, *photos: tuple[str, bytes, str]) -> dict:
    """A multipart report: the JSON in `report`, each photo a `photos` part."""
    return {"files": [("report", (None, json.dumps(report, ensure_ascii=False),
                                  "application/json")),
                      *[("photos", photo) for photo in photos]]}


async def unit_repairs(stack: Stack, unit: str = "1-502") -> list[dict]:
    page = await stack.api.get(f"/v1/projects/SH-LJ/buildings/1/units/{unit}/repairs")
    return page.json()["repairs"]


async def test_a_report_filed_with_its_photos_keeps_them_once(stack: Stack):
    response = await stack.api.post(
        "/v1/repairs", headers={"Idempotency-Key": "call-0917"},
        **filed(REPORT, ("地面.jpg", JPEG, "image/jpeg"), ("楼下顶棚.png", PNG, "image/png")))
    assert response.status_code == 201, response.text
    repair = response.json()
    assert (repair["unit"], repair["reporter"]["name"]) == ("1-502", "王芳")
    assert repair["deadlines"]["arrive_by"]
    listed = (await stack.api.get(f"/v1/repairs/{repair['id']}/photos")).json()
    assert [(p["filename"], p["content_type"]) for p in listed] == [
        ("地面.jpg", "image/jpeg"), ("楼下顶棚.png", "image/png")]
    assert (await stack.api.get(listed[1]["url"])).content == PNG
    timeline = (await stack.api.get(f"/v1/repairs/{repair['id']}")).json()["timeline"]
    assert [e["kind"] for e in timeline].count("photo") == 2
    # The client's retry after a timeout: the same repair, and its photos not kept twice.
    again = await stack.api.post(
        "/v1/repairs", headers={"Idempotency-Key": "call-0917"},
        **filed(REPORT, ("地面.jpg", JPEG, "image/jpeg"), ("楼下顶棚.png", PNG, "image/png")))
    assert again.status_code == 201 and again.json()["id"] == repair["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len((await stack.api.get(f"/v1/repairs/{repair['id']}/photos")).json()) == 2
    # The same key with other photos is another request.
    other = await stack.api.post("/v1/repairs", headers={"Idempotency-Key": "call-0917"},
                                 **filed(REPORT, ("地面.jpg", JPEG, "image/jpeg")))
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


async def test_a_report_part_sent_as_a_file_leaves_room_for_nine_photos(stack: Stack):
    response = await stack.api.post("/v1/repairs", files=[
        ("report", ("report.json", json.dumps(REPORT).encode(), "application/json")),
        *[("photos", (f"{i}.jpg", JPEG, "image/jpeg")) for i in range(9)]])
    assert response.status_code == 201, response.text
    photos = (await stack.api.get(f"/v1/repairs/{response.json()['id']}/photos")).json()
    assert len(photos) == 9


async def test_a_repeat_call_s_photos_join_the_open_repair(stack: Stack):
    first = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    neighbour = {**REPORT, "channel": "wechat", "description": "楼下顶棚也湿了",
                 "reporter": {"name": "李强", "phone": "13700137003"}}
    again = await stack.api.post("/v1/repairs",
                                 **filed(neighbour, ("顶棚.jpg", JPEG, "image/jpeg")))
    assert again.status_code == 200 and again.json()["duplicate_of"] == first["id"]
    photos = (await stack.api.get(f"/v1/repairs/{first['id']}/photos")).json()
    assert [p["filename"] for p in photos] == ["顶棚.jpg"]
    assert len(await unit_repairs(stack)) == 1


async def test_a_multipart_report_is_refused_whole_with_the_field_at_fault(stack: Stack):
    not_an_image = await stack.api.post("/v1/repairs", **filed(
        REPORT, ("a.jpg", JPEG, "image/jpeg"), ("b.jpg", b"GIF89a not taken", "image/jpeg")))
    assert not_an_image.status_code == 415
    assert (not_an_image.json()["code"], not_an_image.json()["field"]) == (
        "unsupported_photo", "photos[1]")
    bad_phone = await stack.api.post("/v1/repairs", **filed(
        {**REPORT, "reporter": {"name": "王芳", "phone": "12345"}}, ("a.jpg", JPEG, "image/jpeg")))
    assert bad_phone.status_code == 422 and bad_phone.json()["field"] == "reporter.phone"
    no_report = await stack.api.post("/v1/repairs",
                                     files=[("photos", ("a.jpg", JPEG, "image/jpeg"))])
    assert no_report.status_code == 422 and no_report.json()["field"] == "report"
    ten = await stack.api.post("/v1/repairs", **filed(
        REPORT, *[(f"{i}.jpg", JPEG, "image/jpeg") for i in range(10)]))
    assert ten.status_code == 422 and ten.json()["code"] == "too_many_photos"
    stray = await stack.api.post("/v1/repairs", files=[
        *filed(REPORT)["files"], ("attachment", ("a.jpg", JPEG, "image/jpeg"))])
    assert stray.status_code == 422 and stray.json()["field"] == "attachment"
    as_text = await stack.api.post("/v1/repairs", content=json.dumps(REPORT),
                                   headers={"content-type": "text/plain"})
    assert as_text.status_code == 415 and as_text.json()["field"] == "Content-Type"
    nul = await stack.api.post("/v1/repairs", content=json.dumps(
        {**REPORT, "description": "漏水\u0000"}).encode())  # no content type: read as JSON
    assert nul.status_code == 422 and nul.json()["code"] == "nul_character"
    assert await unit_repairs(stack) == []
    assert await count_rows(stack.database_url, "intake.photos") == 0


def raw_multipart(*parts: tuple[str, bytes, bytes]) -> dict:
    """A multipart body written by hand: clients escape control characters in file names,
    a hostile one need not."""
    boundary = b"rfboundary"
    body = b"".join(
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name.encode() + b'"'
        + (b'; filename="' + filename + b'"\r\nContent-Type: image/png' if filename else b"")
        + b"\r\n\r\n" + data + b"\r\n" for name, filename, data in parts)
    return {"content": body + b"--" + boundary + b"--\r\n",
            "headers": {"content-type": "multipart/form-data; boundary=rfboundary"}}


async def test_a_file_name_with_control_characters_is_kept_readable(stack: Stack):
    repair = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    uploaded = await stack.api.post(f"/v1/repairs/{repair['id']}/photos", **raw_multipart(
        ("file", "漏\x00水\x07.png".encode(), PNG)))
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["filename"] == "漏水.png"
    with_report = await stack.api.post("/v1/repairs", **raw_multipart(
        ("report", b"", json.dumps({**REPORT, "unit": "1-101"}).encode()),
        ("photos", b"\x00", PNG)))
    assert with_report.status_code == 201, with_report.text
    [photo] = (await stack.api.get(f"/v1/repairs/{with_report.json()['id']}/photos")).json()
    assert photo["filename"] is None and photo["content_type"] == "image/png"
