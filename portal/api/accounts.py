"""The API's accounts: register, token, logout, the patient's own profile."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import PatientProfile
from bookings.services import register_patient, update_profile
from bookings.tokens import revoke_tokens
from portal.api.schema import errors, retry_after_header
from portal.api.serializers import (
    LoginInputSerializer,
    MeInputSerializer,
    MeOutputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenOutputSerializer,
)
from portal.login_guard import LOCKED_OUT_DETAIL, lockout_seconds
from portal.throttles import LoginThrottle, LoginUsernameThrottle, RegisterThrottle


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        tags=["accounts"],
        responses={200: MeOutputSerializer, **errors(401, 404)},
    )
    def get(self, request):
        return Response(MeOutputSerializer(self._profile(request)).data)

    @extend_schema(
        operation_id="me_update",
        tags=["accounts"],
        request=MeInputSerializer,
        responses={200: MeOutputSerializer, **errors(400, 401, 404, 415)},
    )
    def patch(self, request):
        profile = self._profile(request)
        given = MeInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        profile = update_profile(user=request.user, changes=given.validated_data)
        return Response(MeOutputSerializer(profile).data)

    def _profile(self, request) -> PatientProfile:
        profile = PatientProfile.objects.select_related("user").filter(user=request.user).first()
        if profile is None:  # a staff account without a patient profile
            raise NotFound("This account has no patient profile.")
        return profile


class RegisterView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        operation_id="auth_register",
        tags=["accounts"],
        summary="Create a patient account; answers with its API token.",
        request=RegisterInputSerializer,
        parameters=[retry_after_header()],
        responses={201: RegisterOutputSerializer, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        given = RegisterInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = register_patient(**given.validated_data)
        token = Token.objects.create(user=user)
        body = RegisterOutputSerializer(
            {"id": user.pk, "username": user.get_username(), "token": token.key}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle, LoginUsernameThrottle]

    @extend_schema(
        operation_id="auth_token",
        tags=["accounts"],
        summary="Exchange a username and password for the account's API token.",
        request=LoginInputSerializer,
        parameters=[retry_after_header()],
        responses={200: TokenOutputSerializer, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        given = LoginInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = authenticate(request, **given.validated_data)
        if user is None and getattr(request, "axes_locked_out", False):
            # django-axes refused it (too many failures for this username or address, at
            # any login door): API.md's 429 with Retry-After, not "wrong password".
            raise Throttled(wait=lockout_seconds(), detail=LOCKED_OUT_DETAIL)
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the username and password given."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(TokenOutputSerializer({"token": token.key}).data)


class LogoutView(APIView):
    @extend_schema(
        operation_id="auth_logout",
        tags=["accounts"],
        summary="Revoke the token this request was sent with (401 with it afterwards).",
        request=None,
        responses={204: None, **errors(401, 403)},
    )
    def post(self, request):
        revoke_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
