"""The API's one parser: JSON, where even hostile JSON is a 400, never a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # json.loads on thousands of nested brackets
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
