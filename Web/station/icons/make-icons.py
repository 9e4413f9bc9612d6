#!/usr/bin/env python3
"""Draws the Station app's icons (a white fuel drop with a green tick on dark green) as PNGs, with numpy and the
standard library only: python3 Web/station/icons/make-icons.py. 'any' icons have rounded corners; the maskable one
fills the square and keeps the drop inside the central 80 % safe zone."""
import math
import struct
import zlib
from pathlib import Path

import numpy as np

BRAND = (0x06, 0x29, 0x1D)
TICK = (0x00, 0x6B, 0x3C)
AMBER = (0xFF, 0xC1, 0x07)
SS = 4  # supersampling per axis


def coverage(size, inside):
    """Fraction of each pixel covered by the shape `inside(x, y)` (coordinates in 0..1)."""
    n = size * SS
    y, x = np.mgrid[0:n, 0:n]
    x = (x + 0.5) / n
    y = (y + 0.5) / n
    return inside(x, y).reshape(size, SS, size, SS).mean(axis=(1, 3))


def rounded_square(radius):
    def inside(x, y):
        dx = np.maximum(np.abs(x - 0.5) - (0.5 - radius), 0)
        dy = np.maximum(np.abs(y - 0.5) - (0.5 - radius), 0)
        return dx * dx + dy * dy <= radius * radius
    return inside


def drop(scale):
    cx, cy, r = 0.5, 0.5 + 0.09 * scale, 0.245 * scale
    ax, ay = 0.5, 0.5 - 0.33 * scale  # the apex
    d = cy - ay
    half = math.asin(r / d)
    reach = math.sqrt(d * d - r * r)
    t1 = (ax - reach * math.sin(half), ay + reach * math.cos(half))
    t2 = (ax + reach * math.sin(half), ay + reach * math.cos(half))

    def side(px, py, a, b):
        return (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])

    def inside(x, y):
        circle = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        a = (ax, ay)
        s1, s2, s3 = side(x, y, a, t1), side(x, y, t1, t2), side(x, y, t2, a)
        triangle = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
        return circle | triangle
    return inside, (cx, cy, r)


def tick(center, scale):
    cx, cy, r = center
    points = [(cx - 0.11 * scale, cy + 0.0 * scale), (cx - 0.035 * scale, cy + 0.075 * scale), (cx + 0.115 * scale, cy - 0.085 * scale)]
    width = 0.055 * scale

    def inside(x, y):
        hit = np.zeros_like(x, dtype=bool)
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            vx, vy = x2 - x1, y2 - y1
            t = np.clip(((x - x1) * vx + (y - y1) * vy) / (vx * vx + vy * vy), 0, 1)
            hit |= (x - x1 - t * vx) ** 2 + (y - y1 - t * vy) ** 2 <= (width / 2) ** 2
        return hit
    return inside


def render(size, maskable):
    scale = 0.86 if maskable else 1.0
    background = np.ones((size, size)) if maskable else coverage(size, rounded_square(0.18))
    drop_inside, circle = drop(scale)
    shape = coverage(size, drop_inside)
    mark = coverage(size, tick(circle, scale))
    bar = coverage(size, lambda x, y: (np.abs(x - 0.5) <= 0.16 * scale) & (np.abs(y - (0.5 + 0.385 * scale)) <= 0.018 * scale))
    rgb = np.zeros((size, size, 3))
    for layer, colour in ((np.ones((size, size)), BRAND), (shape, (255, 255, 255)), (mark, TICK), (bar, AMBER)):
        rgb = rgb * (1 - layer[..., None]) + np.array(colour) * layer[..., None]
    rgba = np.dstack([rgb, background * 255]).round().astype(np.uint8)
    return rgba


def png(rgba):
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name, size, maskable in (("icon-192.png", 192, False), ("icon-512.png", 512, False), ("icon-maskable-512.png", 512, True)):
        (here / name).write_bytes(png(render(size, maskable)))
        print(name)
