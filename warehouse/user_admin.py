"""The console's user pages (issue 13 §1), in place of django.contrib.auth's stock user admin.

The stock admin showed "Superuser status", groups, raw permissions and a password form to anyone holding
`auth.change_user`, so an administrator could make anyone a superuser, themselves included, and reset a superuser's
password. Here the form offers the roles of `warehouse/roles.py` and, for brand users, a checkbox per brand the
administrator manages; superusers also get superuser status, other groups and permissions. Every save goes through
`warehouse.users` (the rules live there) and every set-password link through `warehouse.password_links`. A POST that
carries a field this form does not offer this person (a crafted "is_superuser", a password) is refused whole (403)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from warehouse.admin import ConsoleAdmin
from warehouse.errors import DomainError
from warehouse.models import Brand, BrandUserObjectPermission
from warehouse.password_links import PasswordLink, password_link_issue
from warehouse.roles import BRAND, BRAND_DATA, ROLE_DESCRIPTIONS, ROLES, user_roles
from warehouse.users import (
    SuperuserFields,
    brands_managed_by,
    brands_of,
    describe_changes,
    roles_grantable_by,
    user_create,
    user_manage_refusal,
    user_update,
)

NAME_FIELDS = ["username", "first_name", "last_name", "email"]
SUPERUSER_FIELDS = ["is_superuser", "groups", "permissions"]
# Never taken from a form here: passwords are set by their owner through a link; staff status follows the roles.
NEVER_POSTED = {"password", "password1", "password2", "usable_password", "is_staff", "user_permissions"}
# Which field a service's refusal belongs to (the rest are shown above the form).
REASON_FIELDS = {
    "username_required": "username",
    "bad_username": "username",
    "username_taken": "username",
    "bad_email": "email",
    "unknown_role": "roles",
    "brand_with_staff_role": "roles",
    "brand_not_managed": "brands",
    "brand_required": "brands",
    "brands_without_brand_role": "brands",
    "role_as_group": "groups",
}


class UserForm(forms.Form):
    """The fields this actor may set on this account, filled from it. Validation is the service's (one place);
    the form only parses, and keeps what was typed when the service refuses."""

    actor: Any = None  # bound by UserAdmin.get_form

    username = forms.CharField(required=False, help_text="What they sign in with: letters, digits and @ . + - _")
    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False)
    email = forms.CharField(
        required=False, label="E-mail", help_text="Their set-password link goes here when mail is configured."
    )
    roles = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "%(value)s is not a role you can give."},
    )
    brands: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=Brand.objects.none(),  # the actor's own, set in __init__
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Brand users only: the brands whose orders, stock and returns they see.",
        error_messages={
            "invalid_choice": "No brand you manage has the id %(value)s.",
            "invalid_pk_value": "No brand has the id %(pk)s.",
        },
    )
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="Unticked: they cannot sign in, and their API tokens are revoked."
    )
    is_superuser = forms.BooleanField(
        required=False, label="Superuser", help_text="Every permission, every brand, every account."
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.exclude(name__in=ROLES).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Other groups",
    )
    permissions = forms.ModelMultipleChoiceField(
        queryset=Permission.objects.select_related("content_type").order_by("content_type__app_label", "codename"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Beyond the roles. Administrators cannot change an account that has any.",
    )

    def __init__(self, data: Any = None, *, instance: User | None = None, **kwargs: Any) -> None:
        self.instance = instance
        super().__init__(data, initial=_initial(instance) if instance is not None else None, **kwargs)
        actor = self.actor
        own = instance is not None and instance.pk == actor.pk
        keep = list(NAME_FIELDS)
        if not own or actor.is_superuser:
            keep += ["roles", "brands"]
            if instance is not None:
                keep.append("is_active")
        if actor.is_superuser:
            keep += SUPERUSER_FIELDS
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "roles" in self.fields:
            roles_field: forms.MultipleChoiceField = self.fields["roles"]  # type: ignore[assignment]
            roles_field.choices = [(r, f"{r} — {ROLE_DESCRIPTIONS[r]}") for r in roles_grantable_by(actor)]
        if "brands" in self.fields:
            brands_field: forms.ModelMultipleChoiceField = self.fields["brands"]  # type: ignore[assignment]
            brands_field.queryset = brands_managed_by(actor)
        if instance is None:
            self.fields["username"].required = True

    def refused_keys(self, posted: Any) -> list[str]:
        """Keys of a POST that this form does not offer this actor: a crafted request, refused whole."""
        offered = set(self.fields)
        every = set(UserForm.base_fields) | NEVER_POSTED
        return sorted(key for key in posted if key in every and key not in offered)

    def add_refusal(self, exc: DomainError) -> None:
        placed = False
        for reason in exc.reasons:
            name = REASON_FIELDS.get(reason.code)
            if reason.code == "too_long":
                name = reason.message.split(":", 1)[0]
            if name in self.fields:
                self.add_error(name, reason.message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


def _initial(user: User) -> dict[str, Any]:
    return {
        **{name: getattr(user, name) for name in NAME_FIELDS},
        "roles": user_roles(user),
        "brands": [brand.pk for brand in brands_of(user)],
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "groups": [g.pk for g in user.groups.all() if g.name not in ROLES],
        "permissions": list(user.user_permissions.values_list("pk", flat=True)),
    }


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(role, role) for role in ROLES] + [("superuser", "superuser")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "superuser":
            return queryset.filter(is_superuser=True)
        if self.value() in ROLES:
            return queryset.filter(groups__name=self.value())
        return queryset


class UserAdmin(ConsoleAdmin):
    brand_field = None  # people are not brand data; brand users never reach the console
    list_display = ["username", "full_name", "email", "role_names", "brand_names", "is_active", "last_sign_in"]
    empty_value_display = "—"
    list_filter = [RoleFilter, "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    form_template = "admin/auth/user/account_form.html"
    link_template = "admin/auth/user/password_link.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        ties = BrandUserObjectPermission.objects.filter(permission__codename=BRAND_DATA.split(".")[1])
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                "groups",
                Prefetch(
                    "branduserobjectpermission_set",
                    queryset=ties.select_related("permission", "content_object"),
                ),
            )
        )

    @admin.display(description="Name")
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description="Roles")
    def role_names(self, obj: User) -> str:
        names = (["superuser"] if obj.is_superuser else []) + user_roles(obj)
        return ", ".join(names)

    @admin.display(description="Brands")
    def brand_names(self, obj: User) -> str:
        return ", ".join(brand.name for brand in brands_of(obj))

    @admin.display(description="Last sign-in", ordering="last_login")
    def last_sign_in(self, obj: User) -> Any:
        return obj.last_login

    # Who may do what: the rules of warehouse.users ------------------------------------------------------------------
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or user_manage_refusal(request.user, obj) is None  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated (their tokens revoked, their history kept), not deleted, but by a superuser.
        return bool(request.user.is_superuser) and (obj is None or obj.pk != request.user.pk)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # As the stock user admin: no filtering on password hashes through the list's query string.
        return not lookup.startswith("password") and super().lookup_allowed(lookup, value, request)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        return type("UserFormFor", (UserForm,), {"actor": request.user})

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/password-link/",
                self.admin_site.admin_view(self.password_link_view),
                name="auth_user_password_link",
            )
        ]
        return own + super().get_urls()

    # Pages -----------------------------------------------------------------------------------------------------
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.get_form(request)(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            self._refuse_crafted(form, request)
            if form.is_valid():
                try:
                    saved = user_create(actor=request.user, **self._arguments(form, add=True))  # type: ignore[arg-type]
                    link = password_link_issue(user=saved.user, actor=request.user, base_url=_base(request))  # type: ignore[arg-type]
                except DomainError as exc:
                    self._refused(exc, form)
                else:
                    self.log_addition(request, saved.user, [{"added": {}}])
                    return self._link_page(request, saved.user, link, created=True)
        return self._form_page(request, form, None)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        user = self._user_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, user):
            raise PermissionDenied
        if not self.has_change_permission(request, user):
            if request.method == "POST":
                raise PermissionDenied
            return self._form_page(request, None, user)
        form = self.get_form(request, user)(request.POST if request.method == "POST" else None, instance=user)
        if request.method == "POST":
            self._refuse_crafted(form, request)
            if form.is_valid():
                try:
                    saved = user_update(user=user, actor=request.user, **self._arguments(form, add=False))  # type: ignore[arg-type]
                except DomainError as exc:
                    self._refused(exc, form)
                else:
                    said = describe_changes(saved)
                    self.log_change(request, saved.user, said)
                    messages.success(request, f"Saved {saved.user.username}: {said}.")
                    if saved.tokens_revoked:
                        messages.info(request, f"{saved.tokens_revoked} API token(s) of theirs revoked.")
                    return HttpResponseRedirect(reverse("admin:auth_user_changelist"))
        return self._form_page(request, form, user)

    def password_link_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        user = self._user_or_404(request, object_id)
        if user.pk == request.user.pk or not self.has_change_permission(request, user):
            raise PermissionDenied
        try:
            link = password_link_issue(user=user, actor=request.user, base_url=_base(request))  # type: ignore[arg-type]
        except DomainError as exc:
            if exc.http_status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        self.log_change(request, user, "set-password link issued")
        return self._link_page(request, user, link, created=False)

    # Helpers ---------------------------------------------------------------------------------------------------
    def _user_or_404(self, request: HttpRequest, object_id: str) -> User:
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("No such user.")
        return user

    def _refuse_crafted(self, form: UserForm, request: HttpRequest) -> None:
        refused = form.refused_keys(request.POST)
        if refused:
            raise PermissionDenied(f"This form does not take {', '.join(refused)} from you.")

    def _refused(self, exc: DomainError, form: UserForm) -> None:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message) from exc
        form.add_refusal(exc)

    def _arguments(self, form: UserForm, *, add: bool) -> dict[str, Any]:
        data = form.cleaned_data
        args: dict[str, Any] = {name: data[name] for name in NAME_FIELDS if name in form.fields}
        if "roles" in form.fields:
            args["roles"] = data["roles"]
            args["brands"] = list(data["brands"])
        if "is_active" in form.fields and not add:
            args["is_active"] = data["is_active"]
        if "is_superuser" in form.fields:
            args["superuser"] = SuperuserFields(
                is_superuser=data["is_superuser"], groups=list(data["groups"]), permissions=list(data["permissions"])
            )
        return args

    def _context(self, request: HttpRequest, title: str, user: User | None) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": user,
            "has_view_permission": True,
        }

    def _form_page(self, request: HttpRequest, form: UserForm | None, user: User | None) -> TemplateResponse:
        title = "Add a person" if user is None else f"{user.username}"
        context = self._context(request, title, user)
        context.update(
            {
                "form": form,
                "add": user is None,
                "own": user is not None and user.pk == request.user.pk,
                "refusal": user_manage_refusal(request.user, user) if user is not None else None,  # type: ignore[arg-type]
                "roles": (["superuser"] if user is not None and user.is_superuser else [])
                + (user_roles(user) if user is not None else []),
                "brands": brands_of(user) if user is not None else [],
                "brand_role": BRAND,
                "may_issue_link": user is not None
                and user.pk != request.user.pk
                and user.is_active
                and self.has_change_permission(request, user),
            }
        )
        return TemplateResponse(request, self.form_template, context)

    def _link_page(self, request: HttpRequest, user: User, link: PasswordLink, *, created: bool) -> TemplateResponse:
        title = f"{'Account created' if created else 'Set-password link'}: {user.username}"
        context = self._context(request, title, user)
        context.update({"link": link, "created": created, "person": user})
        return TemplateResponse(request, self.link_template, context)


def _base(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
