"""Process environment changed for one block and put back afterwards (the edge both the
emulator and ``promwatch invoke`` need: boto3 and the handlers read ``os.environ``)."""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def patched_environment(values: Mapping[str, str], *, remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Set environment variables (and unset ``remove``) for the block, then restore them.

    Parameters
    ----------
    values
        Variables to set.
    remove
        Variables to unset (e.g. an AWS profile that would override the emulator's keys).
    """
    saved = {key: os.environ.get(key) for key in (*values, *remove)}
    try:
        for key in remove:
            os.environ.pop(key, None)
        os.environ.update(values)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
