"""People's accounts (issue 13 §1): who may set up whom, and the write use-cases behind the console's user form.

The rules, each stated once here:
- A role is one of `warehouse.roles.ROLES`. A superuser grants any; an administrator (`auth.add_user`,
  `auth.change_user`) grants every role but `administrator`. A brand user holds the `brand` role alone (a staff role
  sees every brand anyway) and at least one brand.
- Brand users are tied to brands through guardian (`brand_member_add`). An actor ties users only to the brands they
  *manage*: brands they may change (`warehouse.change_brand`): every brand for administrators, who hold it globally;
  one brand for someone holding it on that brand alone (a guardian object permission; no role grants that today).
- Superuser status, groups beyond the roles and raw permissions are set by superusers only.
- Administrators do not change a superuser's account, another administrator's, or one a superuser gave powers beyond
  its roles (raw permissions or other groups): not its password, e-mail, roles or status. Their own account: name,
  username and e-mail only; their roles and status are a superuser's to change.
- Nobody chooses another person's password: a new account has no usable password and gets a set-password link
  (`warehouse.password_links`).
- Deactivating an account revokes its API tokens (knox), so reactivating it does not bring them back.
Every refusal happens before any write; a refused call saves nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user
from knox.models import AuthToken

from warehouse.errors import InvalidInput, NotPermitted, Reason, TooLong
from warehouse.limits import refuse_too_long, too_long
from warehouse.models import Brand, BrandUserObjectPermission
from warehouse.roles import (
    ADMINISTRATOR,
    BRAND,
    BRAND_DATA,
    ROLES,
    STAFF_ROLES,
    UserLike,
    brand_member_add,
    brand_member_remove,
    user_roles,
)

T = TypeVar("T")
MANAGE_BRAND = "warehouse.change_brand"
# Column sizes of django.contrib.auth's User: a longer value is refused, never cut (warehouse.limits).
LIMITS = {"username": 150, "first_name": 150, "last_name": 150, "email": 254}


# Who may do what -------------------------------------------------------------------------------------------------
def roles_grantable_by(actor: UserLike) -> list[str]:
    """The roles `actor` may give or take away, in the order of `ROLES`."""
    if actor.is_superuser:
        return list(ROLES)
    return [role for role in ROLES if role != ADMINISTRATOR]


def brands_managed_by(actor: UserLike) -> QuerySet[Brand]:
    """The brands `actor` may tie users to: those they may change (globally: every brand)."""
    if not actor.is_authenticated or not actor.is_active:
        return Brand.objects.none()
    if actor.has_perm(MANAGE_BRAND):
        return Brand.objects.order_by("name")
    found = get_objects_for_user(actor, MANAGE_BRAND, klass=Brand, accept_global_perms=False, with_superuser=False)
    return found.order_by("name")


def user_manage_refusal(actor: UserLike, target: User) -> str | None:
    """Why `actor` may not change `target`'s account, or None when they may."""
    if not actor.has_perm("auth.change_user"):
        return "You may not change people's accounts."
    if actor.is_superuser:
        return None
    if target.is_superuser:
        return "Only a superuser changes a superuser's account."
    if target.pk == actor.pk:
        return None  # their own name and e-mail (roles and status: see user_update)
    if ADMINISTRATOR in user_roles(target):
        return "Only a superuser changes another administrator's account."
    if target.user_permissions.exists() or target.groups.exclude(name__in=ROLES).exists():
        return "A superuser gave this account powers beyond its roles: only a superuser changes it."
    return None


def user_may_manage(actor: UserLike, target: User) -> bool:
    return user_manage_refusal(actor, target) is None


def brands_of(user: User) -> list[Brand]:
    """The brands `user` is tied to (their own `view_brand_data` object permissions), by name. Reads the list page's
    prefetch (`branduserobjectpermission_set` with its permission and brand) when there is one."""
    codename = BRAND_DATA.split(".")[1]
    prefetched = getattr(user, "_prefetched_objects_cache", {}).get("branduserobjectpermission_set")
    if prefetched is None:
        return list(
            Brand.objects.filter(
                branduserobjectpermission__user=user, branduserobjectpermission__permission__codename=codename
            ).order_by("name")
        )
    return sorted((row.content_object for row in prefetched if row.permission.codename == codename), key=str)


# The write use-cases ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SuperuserFields:
    """What only a superuser sets: None leaves each as it is."""

    is_superuser: bool | None = None
    groups: list[Group] | None = None  # groups beyond the roles
    permissions: list[Permission] | None = None

    def given(self) -> bool:
        return any(value is not None for value in (self.is_superuser, self.groups, self.permissions))


@dataclass(frozen=True)
class UserSaved:
    user: User
    tokens_revoked: int = 0
    changed: list[str] = field(default_factory=list)


def user_create(
    *,
    actor: User,
    username: str,
    roles: Iterable[str],
    brands: Iterable[Brand] = (),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    superuser: SuperuserFields | None = None,
) -> UserSaved:
    """A new account with no usable password (its owner sets one through a set-password link)."""
    if not actor.has_perm("auth.add_user"):
        raise NotPermitted("You may not add people's accounts.")
    extra = superuser or SuperuserFields()
    _superuser_fields_allowed(actor, extra)
    refusals = _Refusals()
    names = refusals.run(
        lambda: _names_checked(username=username, email=email, first_name=first_name, last_name=last_name, user=None)
    )
    wanted_roles = refusals.run(lambda: _roles_checked(actor, list(roles)))
    chosen = list(brands)
    wanted_brands = (
        refusals.run(lambda: _brands_checked(actor, chosen, roles=wanted_roles, current=set()))
        if wanted_roles is not None
        else None
    )
    refusals.raise_any()
    assert names is not None and wanted_roles is not None and wanted_brands is not None
    with transaction.atomic():
        user = User(**names, is_active=True)
        user.set_unusable_password()
        user.is_superuser = bool(extra.is_superuser)
        user.is_staff = user.is_superuser or bool(STAFF_ROLES & set(wanted_roles))
        user.save()
        _set_roles(user, wanted_roles)
        _set_brands(actor, user, wanted_brands, current=set())
        _set_superuser_fields(user, extra)
    return UserSaved(user=user, changed=["created"])


def user_update(
    *,
    user: User,
    actor: User,
    username: str | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    roles: Iterable[str] | None = None,
    brands: Iterable[Brand] | None = None,
    is_active: bool | None = None,
    superuser: SuperuserFields | None = None,
) -> UserSaved:
    """Change what is given (None: left as it is). Deactivating revokes every API token of the account."""
    refusal = user_manage_refusal(actor, user)
    if refusal:
        raise NotPermitted(refusal)
    extra = superuser or SuperuserFields()
    _superuser_fields_allowed(actor, extra)
    own = user.pk == actor.pk
    if own and not actor.is_superuser and (roles is not None or brands is not None or is_active is not None):
        raise NotPermitted("Your own roles, brands and status are changed by a superuser.")
    if own and is_active is False:
        raise InvalidInput(
            "You cannot deactivate your own account.", reasons=[Reason("own_account", "Ask another superuser.")]
        )
    given = {"username": username, "email": email, "first_name": first_name, "last_name": last_name}
    current_names = {name: getattr(user, name) for name in given}
    refusals = _Refusals()
    names = refusals.run(
        lambda: _names_checked(**{k: v if v is not None else current_names[k] for k, v in given.items()}, user=user)
    )
    current_roles = user_roles(user)
    current_brands = set(
        BrandUserObjectPermission.objects.filter(user=user, permission__codename=BRAND_DATA.split(".")[1]).values_list(
            "content_object_id", flat=True
        )
    )
    wanted_roles = (
        refusals.run(lambda: _roles_checked(actor, list(roles), current=current_roles))
        if roles is not None
        else current_roles
    )
    wanted_brands: list[Brand] | None = None
    if wanted_roles is not None and (roles is not None or brands is not None):
        chosen = list(brands) if brands is not None else _managed_part(actor, current_brands)
        if BRAND not in wanted_roles and brands is None:
            chosen = []  # leaving the brand role unties the brands the actor manages
        wanted_brands = refusals.run(lambda: _brands_checked(actor, chosen, roles=wanted_roles, current=current_brands))
    refusals.raise_any()
    assert names is not None and wanted_roles is not None

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = [name for name, value in names.items() if getattr(locked, name) != value]
        for name, value in names.items():
            setattr(locked, name, value)
        revoked = 0
        if is_active is not None and is_active != locked.is_active:
            changed.append("active" if is_active else "deactivated")
            locked.is_active = is_active
            if not is_active:
                revoked, _ = AuthToken.objects.filter(user=locked).delete()
        if extra.is_superuser is not None and extra.is_superuser != locked.is_superuser:
            changed.append("superuser")
            locked.is_superuser = extra.is_superuser
        if set(wanted_roles) != set(current_roles):
            changed.append("roles")
            _set_roles(locked, wanted_roles)
        locked.is_staff = locked.is_superuser or bool(STAFF_ROLES & set(wanted_roles))
        locked.save()
        if wanted_brands is not None and {b.pk for b in wanted_brands} != _managed_part_ids(actor, current_brands):
            changed.append("brands")
            _set_brands(actor, locked, wanted_brands, current=current_brands)
        if extra.given():
            changed += _set_superuser_fields(locked, extra)
    return UserSaved(user=locked, tokens_revoked=revoked, changed=changed)


# Checks (no writes) ----------------------------------------------------------------------------------------------
class _Refusals:
    """Every invalid-input reason of one request, so that the form names each mistake at once. A value too long for
    its column (`TooLong`) and a missing permission (`NotPermitted`) are raised at once, as they are."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def run(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except TooLong:
            raise
        except InvalidInput as exc:
            self.reasons += exc.reasons
            return None

    def raise_any(self) -> None:
        if self.reasons:
            raise InvalidInput(" ".join(r.message for r in self.reasons), reasons=list(self.reasons))


def _superuser_fields_allowed(actor: User, extra: SuperuserFields) -> None:
    if extra.given() and not actor.is_superuser:
        raise NotPermitted("Only a superuser sets superuser status, groups or permissions.")
    if extra.groups and any(group.name in ROLES for group in extra.groups):
        raise InvalidInput(
            "Roles are given as roles, not as groups.",
            reasons=[Reason("role_as_group", "Tick the role under Roles instead.")],
        )


def _names_checked(*, username: str, email: str, first_name: str, last_name: str, user: User | None) -> dict[str, str]:
    values = {
        "username": (username or "").strip(),
        "email": (email or "").strip(),
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
    }
    refuse_too_long([r for name, value in values.items() if (r := too_long(name, value, LIMITS[name]))])
    reasons = []
    if not values["username"]:
        reasons.append(Reason("username_required", "A username is needed to sign in."))
    else:
        try:
            UnicodeUsernameValidator()(values["username"])
        except ValidationError:
            reasons.append(Reason("bad_username", "Use letters, digits and @ . + - _ only, no spaces."))
        taken = User.objects.filter(username__iexact=values["username"])
        if user is not None:
            taken = taken.exclude(pk=user.pk)
        if taken.exists():
            reasons.append(Reason("username_taken", f"The username {values['username']} is taken."))
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            reasons.append(Reason("bad_email", f"{values['email']} is not an e-mail address."))
    if reasons:
        raise InvalidInput(" ".join(r.message for r in reasons), reasons=reasons)
    return values


def _roles_checked(actor: User, roles: Iterable[str], current: Iterable[str] = ()) -> list[str]:
    wanted = list(dict.fromkeys(str(role) for role in roles))
    unknown = [role for role in wanted if role not in ROLES]
    if unknown:
        message = f"Unknown role: {', '.join(unknown)}. The roles are: {', '.join(ROLES)}."
        raise InvalidInput(message, reasons=[Reason("unknown_role", message)])
    grantable = roles_grantable_by(actor)
    moved = set(wanted) ^ set(current)
    if any(role not in grantable for role in moved):
        raise NotPermitted("Only a superuser gives or takes away the administrator role.")
    if BRAND in wanted and len(wanted) > 1:
        message = "A brand user holds the brand role alone: a staff role sees every brand."
        raise InvalidInput(message, reasons=[Reason("brand_with_staff_role", message)])
    return wanted


def _managed_part_ids(actor: User, brand_ids: set[int]) -> set[int]:
    return set(brands_managed_by(actor).filter(pk__in=brand_ids).values_list("pk", flat=True))


def _managed_part(actor: User, brand_ids: set[int]) -> list[Brand]:
    return list(brands_managed_by(actor).filter(pk__in=brand_ids))


def _brands_checked(actor: User, brands: list[Brand], *, roles: list[str], current: set[int]) -> list[Brand]:
    """The brands to tie (among those the actor manages); ties to brands the actor does not manage stay."""
    managed = set(brands_managed_by(actor).values_list("pk", flat=True))
    foreign = [brand for brand in brands if brand.pk not in managed]
    if foreign:
        message = f"Not a brand you manage: {', '.join(sorted(str(b) for b in foreign))}."
        raise InvalidInput(message, reasons=[Reason("brand_not_managed", message)])
    unique = list({brand.pk: brand for brand in brands}.values())
    if BRAND in roles and not unique and not (current - managed):
        message = "A brand user needs at least one brand: tick the brands they belong to."
        raise InvalidInput(message, reasons=[Reason("brand_required", message)])
    if BRAND not in roles and unique:
        message = "Only brand users are tied to brands: tick the brand role, or untick the brands."
        raise InvalidInput(message, reasons=[Reason("brands_without_brand_role", message)])
    return unique


# Writes (inside the caller's transaction) ------------------------------------------------------------------------
def _set_roles(user: User, roles: list[str]) -> None:
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    user.groups.remove(*[group for name, group in groups.items() if name not in roles])
    user.groups.add(*[groups[name] for name in roles])


def _set_brands(actor: User, user: User, brands: list[Brand], *, current: set[int]) -> None:
    wanted = {brand.pk for brand in brands}
    for brand in brands_managed_by(actor).filter(pk__in=current - wanted):
        brand_member_remove(user=user, brand=brand)
    for brand in brands:
        if brand.pk not in current:
            brand_member_add(user=user, brand=brand)


def _set_superuser_fields(user: User, extra: SuperuserFields) -> list[str]:
    changed = []
    if extra.is_superuser is not None and user.is_superuser != extra.is_superuser:
        user.is_superuser = extra.is_superuser
        user.is_staff = user.is_staff or extra.is_superuser
        user.save(update_fields=["is_superuser", "is_staff"])
    if extra.groups is not None:
        others = list(user.groups.exclude(name__in=ROLES))
        if {g.pk for g in others} != {g.pk for g in extra.groups}:
            changed.append("groups")
            user.groups.remove(*others)
            user.groups.add(*extra.groups)
    if extra.permissions is not None:
        before = set(user.user_permissions.values_list("pk", flat=True))
        if before != {p.pk for p in extra.permissions}:
            changed.append("permissions")
            user.user_permissions.set(extra.permissions)
    return changed


def describe_changes(saved: UserSaved) -> str:
    """The change in words, for the console's message and its log entry."""
    words = {
        "username": "username",
        "email": "e-mail",
        "first_name": "first name",
        "last_name": "last name",
        "roles": "roles",
        "brands": "brands",
        "active": "reactivated",
        "deactivated": "deactivated",
        "superuser": "superuser status",
        "groups": "groups",
        "permissions": "permissions",
    }
    parts = [words.get(name, name) for name in saved.changed]
    return ", ".join(parts) if parts else "nothing changed"
