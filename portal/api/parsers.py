"""The API's one parser: JSON, where even hostile JSON is a 400, never a 500."""

import re
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

# JSON may escape half of a UTF-16 pair alone ("\ud800"): valid JSON, but no character,
# so no string holding one can be encoded (to the database, a log line, or the answer
# echoing it back: a choice field's error did, and the renderer raised).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = (
    "Holds a lone UTF-16 surrogate (an escape from \\ud800 to \\udfff without its pair), "
    "which is not a character: send the character itself, or both halves of its pair."
)


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json.loads on thousands of nested brackets
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        _refuse_lone_surrogates(data)
        return data


def _refuse_lone_surrogates(data: Any) -> None:
    """A 400 naming the top-level field (DRF's shape) whose value holds a lone surrogate
    anywhere; `non_field_errors` when a key, or a body that is no object, holds one."""
    if isinstance(data, dict):
        for key, value in data.items():
            if _holds_surrogate(key):
                break
            if _holds_surrogate(value):
                raise ValidationError({key: [LONE_SURROGATE_MESSAGE]})
        else:
            return
    elif not _holds_surrogate(data):
        return
    raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [LONE_SURROGATE_MESSAGE]})


def _holds_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_surrogate(item) for item in value)
    return False
