"""Serializer base for writes: a field the client may not write (unknown, read-only, `id`, `brand` on update) is a
400 naming the field, never silently ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["This field may not be written."] for name in unknown})
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=False, trim_whitespace=True, max_length=2000)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(allow_blank=False, trim_whitespace=True, max_length=2000)


class OptionalNoteSerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)
