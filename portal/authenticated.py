"""The request of a view that requires a login (`login_required`): its user is the
project's User, never AnonymousUser, so the types say what the view may rely on.

Annotation only, as django-stubs suggests: at run time it is Django's HttpRequest.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    user: User
