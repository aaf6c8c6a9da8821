"""Friendly error pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_unknown_address_answers_the_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_permission_denied_answers_the_friendly_403(rf: RequestFactory, django_user_model):
    request = rf.get("/")
    request.user = django_user_model()
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "You are not allowed to do that" in response.content.decode()


def test_server_error_answers_the_friendly_500_without_context(rf: RequestFactory):
    response = defaults.server_error(rf.get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'lang="en-IN"' in page
