"""Console forms of the allocation policy and cutoffs: each field checked with an error a person can act on, and a
required "why" that goes into the history row with the editor's name. Saving goes through the allocation services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from integrations.platforms import registry
from orders.allocation.models import AllocationPolicy, Cutoff, PriorityClass

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
REASON_FIELD = "change_reason"


def _names(raw: Any) -> list[str]:
    """A list typed as "a, b c" (or kept as a list) → ["a", "b", "c"]."""
    if isinstance(raw, list | tuple):
        return [str(x).strip() for x in raw if str(x).strip()]
    return [x for x in str(raw or "").replace(",", " ").split() if x]


class ListField(forms.CharField):
    """A short list of codes typed comma-separated; shown the same way."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 60}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return _names(value)


def class_order_errors(order: list[str]) -> list[str]:
    """Why `order` is not a permutation of the priority classes (empty when it is)."""
    known = list(PriorityClass.values)
    errors = []
    unknown = [c for c in order if c not in known]
    missing = [c for c in known if c not in order]
    repeated = sorted({c for c in order if order.count(c) > 1})
    if unknown:
        errors.append("Unknown class: " + ", ".join(unknown) + ".")
    if missing:
        errors.append("Missing: " + ", ".join(missing) + ".")
    if repeated:
        errors.append("Listed more than once: " + ", ".join(repeated) + ".")
    if errors:
        errors.append("List each class once, first served first: " + ", ".join(known) + ".")
    return errors


def _platforms(names: list[str]) -> list[str]:
    unknown = [n for n in names if not registry.is_registered(n)]
    if unknown:
        raise forms.ValidationError(
            "Unknown platform: " + ", ".join(unknown) + ". Known: " + ", ".join(registry.codes()) + "."
        )
    return list(dict.fromkeys(names))


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Why",
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Recorded in the history with your name (e.g. the brand's request, the contract clause).",
    )


class AllocationPolicyForm(ReasonForm):
    class_order = ListField(
        help_text="Priority classes, first served first, comma-separated; FIFO by paid time within one. Classes: "
        + ", ".join(PriorityClass.values)
    )
    prime_platforms = ListField(
        required=False, help_text="Platforms whose Prime/SLA-flagged orders are marketplace SLA, e.g. amazon"
    )
    window_platforms = ListField(
        required=False, help_text="Platforms whose orders are SLA-bound inside the window, e.g. tiktok"
    )
    marketplace_window_hours = forms.IntegerField(
        min_value=1,
        max_value=32767,
        error_messages={"min_value": "The window must be at least 1 hour."},
    )
    split_fee = forms.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={"min_value": "The split fee cannot be negative."},
    )

    class Meta:
        model = AllocationPolicy
        fields = [
            "brand",
            "class_order",
            "prime_platforms",
            "window_platforms",
            "marketplace_window_hours",
            "split_allowed",
            "split_fee",
        ]

    def clean_class_order(self) -> list[str]:
        order = self.cleaned_data["class_order"]
        errors = class_order_errors(order)
        if errors:
            raise forms.ValidationError(errors)
        return list(order)

    def clean_prime_platforms(self) -> list[str]:
        return _platforms(self.cleaned_data["prime_platforms"])

    def clean_window_platforms(self) -> list[str]:
        return _platforms(self.cleaned_data["window_platforms"])


class CutoffForm(ReasonForm):
    platform = forms.ChoiceField(
        choices=lambda: [("", "Default (every other channel)"), *registry.choices()],
        required=False,
        help_text="The channel this cutoff binds; default applies to channels without their own.",
    )
    cutoff_time = forms.TimeField(
        widget=forms.TimeInput(format="%H:%M", attrs={"size": 6}),
        help_text="In the facility's own time zone, e.g. 15:00",
        error_messages={"invalid": "Enter a time of day as HH:MM, e.g. 15:00."},
    )
    handling_days = forms.IntegerField(
        min_value=0,
        max_value=30,
        help_text="Ship days after the paid day's cutoff (0: same day)",
        error_messages={"min_value": "Handling days cannot be negative."},
    )
    ship_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: Monday to Friday.",
    )

    class Meta:
        model = Cutoff
        fields = ["brand", "platform", "facility", "cutoff_time", "handling_days", "ship_weekdays", "hard_deadline"]

    def clean_ship_weekdays(self) -> list[int]:
        return sorted(set(self.cleaned_data["ship_weekdays"]))
