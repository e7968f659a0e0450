"""OCPI 2.2.1 module emsp role: sessions (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
