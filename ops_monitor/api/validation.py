"""Input checks that keep a request the database would refuse from ever reaching it.

PostgreSQL refuses a NUL in text and a query with more than 65,535 parameters; SQLite takes both.
Checked here, before any query, the same request gets the same 400 on either backend instead of
a 500 on one of them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_FILTER_VALUES = 1000
"""Values per scan filter list: far more than any real set of sources or levels, and far below
the 65,535 parameters PostgreSQL allows in one query."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """A NUL or a lone surrogate (`"\\ud800"` in JSON) cannot be sent to the database as text."""
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL or unpaired surrogate characters")
    return value


class _NoNulInSchema:
    """Says in the published schema too that NUL is refused, so a client knows before it sends."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = "^[^\\u0000]*$"
        return schema


StorableText = Annotated[str, AfterValidator(storable), _NoNulInSchema]
