"""Routes; see docs/CONTRACTS.md for who owns this file."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
