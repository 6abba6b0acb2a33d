"""Fixtures of the fault suite: each broken thing is private to its test and cleaned up
even when the test fails. Without root (namespaces, mounts, runuser) the suite skips, and
fails in CI."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import unavailable

from faults.fault_services import (
    PrivatePostgres,
    PrivateRedis,
    SmallDisk,
    VethPartition,
    is_root,
)


@pytest.fixture
def root_only() -> None:
    if not is_root():
        unavailable("root (network namespaces, mounts, runuser)")


@pytest.fixture
def partition(root_only: None) -> Iterator[VethPartition]:
    veth = VethPartition()
    try:
        veth.create()
    except (OSError, RuntimeError) as exc:
        veth.close()
        unavailable(f"network namespaces ({exc})")
    try:
        yield veth
    finally:
        veth.close()


@pytest.fixture
def private_postgres(root_only: None) -> Iterator[PrivatePostgres]:
    try:
        pg = PrivatePostgres()
    except FileNotFoundError as exc:
        unavailable(f"PostgreSQL server binaries ({exc})")
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.close()


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = PrivateRedis(workdir)
    try:
        await server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def small_disk(root_only: None, tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "small-disk", "4m")
    try:
        disk.mount()
    except RuntimeError as exc:
        unavailable(f"tmpfs mounts ({exc})")
    try:
        yield disk
    finally:
        disk.close()
