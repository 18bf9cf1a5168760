"""The plain-JSON forms of the event values, now in :mod:`console.core.serialize` (the stream
encodes with them too); kept here under their old names."""

from __future__ import annotations

from console.core.serialize import (
    _encoder,
    encode_json,
    fpm_to_dict,
    jsonable,
    mysql_to_dict,
    plain_fields,
    record_json,
    record_to_dict,
    state_to_dict,
    status_to_dict,
    system_to_dict,
)

__all__ = [
    "_encoder",
    "encode_json",
    "fpm_to_dict",
    "jsonable",
    "mysql_to_dict",
    "plain_fields",
    "record_json",
    "record_to_dict",
    "state_to_dict",
    "status_to_dict",
    "system_to_dict",
]
