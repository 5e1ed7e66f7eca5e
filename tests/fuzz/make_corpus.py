#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_update: valid updates and nasty cases, hand-encoded in the
protobuf wire format (no protobuf package needed). Run from anywhere; writes beside itself."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_update")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def s(field, text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return key(field, 2) + varint(len(data)) + data


def u(field, n):
    return key(field, 0) + varint(n)


def indicator(code, value):
    body = s(1, code) + key(2, 1) + struct.pack("<d", value)
    return s(13, body)


def update(text="tổ chức triển khai {THANHTRA_CUOC} cuộc thanh tra", **kw):
    m = s(1, kw.get("id", "6f1c2d4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f"))
    m += s(2, kw.get("unit", "THANH_TRA")) + u(3, kw.get("year", 2018)) + u(4, kw.get("month", 7))
    m += u(5, kw.get("section", 1)) + s(6, kw.get("area", "THANH_TRA")) + s(7, kw.get("key", "tt-1"))
    m += u(8, 1) + s(11, text)
    for sub in kw.get("subs", []):
        m += s(12, sub)
    for code, value in kw.get("indicators", [("THANHTRA_CUOC", 1.0)]):
        m += indicator(code, value)
    return m


SEEDS = {
    "valid": update(),
    "valid-subitems": update(subs=["một", "hai"], indicators=[("ISO_KIEMTRA", 9), ("ISO_TOT", 1)]),
    "valid-next-task": update(section=3, text="Tổ chức 01 cuộc thanh tra chuyên đề năm 2018."),
    "decomposed-nfd": update(text="Vie\u0323\u0302t Nam"),
    "invalid-utf8": update(text=b"ok \xc3\x28 broken"),
    "overlong-utf8": update(text=b"\xc0\xaf"),
    "surrogate": update(text=b"\xed\xa0\x80"),
    "nul-in-text": update(text=b"abc\x00def"),
    "control-chars": update(text="a\tb\rc\x1b[31m"),
    "bad-uuid": update(id="not-a-uuid"),
    "bad-period": update(year=1999, month=13),
    "bad-section": update(section=7),
    "nan": update(indicators=[("ISO_KIEMTRA", float("nan"))]),
    "negative": update(indicators=[("ISO_KIEMTRA", -1.0)]),
    "duplicate-indicator": update(indicators=[("ISO_KIEMTRA", 1.0), ("ISO_KIEMTRA", 2.0)]),
    "truncated-varint": update()[:3] + b"\xff\xff\xff",
    "huge-length": key(11, 2) + b"\xff\xff\xff\xff\x0f" + b"abc",
    "huge-varint": u(3, 2**64 - 1),
    "deep-nesting": (s(13, s(13, s(13, s(13, b"\x0a\x01A"))))),
    "wrong-wire-type": key(1, 5) + b"\x01\x02\x03\x04",
    "empty": b"",
    "many-subitems": update(subs=["x"] * 60),
    "unknown-fields": update() + s(99, "future field") + u(100, 5),
}


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {HERE}")


if __name__ == "__main__":
    main()
