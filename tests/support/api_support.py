"""API test support: a DRF APIClient that checks every answer against the OpenAPI schema.

The schema is the one the app serves (drf-spectacular, generated from the code); each
response a test receives must have a documented status code and match that status's
schema (schemathesis does the matching).
"""

import json

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

UNDESCRIBED_PATHS = ("/api/schema/", "/api/docs/")  # the description itself, and its viewer


def load_openapi_schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))


def assert_conforms(schema, response) -> None:
    """The response's status is documented for its operation and its body matches."""
    method = response.request["REQUEST_METHOD"]
    path = response.request["PATH_INFO"]
    if path.startswith(UNDESCRIBED_PATHS):
        return
    operation = schema.find_operation_by_path(method, path)
    if operation is None:
        # A method the path does not have (405), or a path that does not exist (404).
        assert response.status_code in (404, 405), (method, path, response.status_code)
        return
    documented = operation.responses.find_by_status_code(response.status_code)
    assert documented is not None, (
        f"{method} {path} answered {response.status_code}, which its schema does not list"
    )
    declared = operation.definition.raw["responses"].get(str(response.status_code), {})
    for header, rules in declared.get("headers", {}).items():
        if rules.get("required"):
            assert response.has_header(header), f"{method} {path}: no {header} header"
    if response.content:
        assert response["Content-Type"] == "application/json", (
            f"{method} {path} answered {response['Content-Type']}, not JSON"
        )
    headers: dict[str, list[str]] = {}
    for name, value in response.items():
        headers.setdefault(name.lower(), []).append(value)
    operation.validate_response(
        schemathesis.Response(
            status_code=response.status_code,
            headers=headers,
            content=response.content,
            request=requests.Request(method, f"http://testserver{path}").prepare(),
            elapsed=0.0,
            verify=False,
        )
    )


class ConformingAPIClient(APIClient):
    """APIClient (real URL routing) whose every answer is checked against the schema."""

    def __init__(self, openapi_schema, **defaults):
        super().__init__(**defaults)
        self.openapi_schema = openapi_schema

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        assert_conforms(self.openapi_schema, response)
        return response
