"""The forms of the account pages: profile, password, API tokens, and the node's accounts for its administrators.

The forms only read and check what was typed; every change is made by an action in `accord.members.actions`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accord.members import actions
from accord.members.models import Account, ApiToken, Member, Organisation, Role

MAX_TOKEN_DAYS = 3650  # as `actions.create_token` allows


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the interface"),
        required=False,
        choices=[("", _("As my browser or the language menu says")), *Account.Language.choices],
    )
    time_zone = forms.CharField(
        label=_("Time zone (IANA name, such as Asia/Almaty; empty for UTC)"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data.get("time_zone") or "").strip()
        if value and value not in actions.available_time_zones():
            raise ValidationError(_("“%(zone)s” is not a time zone name such as Asia/Almaty."), params={"zone": value})
        return value


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    days = forms.IntegerField(
        label=_("Expires after (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, initial=settings.ACCORD_TOKEN_DAYS
    )

    def clean_name(self) -> str:
        value = str(self.cleaned_data.get("name") or "").strip()
        if not value:
            raise ValidationError(_("A token needs a name."))
        return value


class ResetRequestForm(PasswordResetForm):
    """Django's form, but the mail goes out through `actions.send_password_link` (throttled, audited, in the
    account's language). Whether an account has the address is never shown: the page after it is the same."""

    def send_links(self, base_url: str) -> None:
        for account in self.get_users(self.cleaned_data["email"]):
            assert isinstance(account, Account)
            actions.send_password_link(account, base_url=base_url, acting_user=None)


class ResetSetPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """Django's form for the page a reset link opens; the new password is set by `actions.set_password`."""

    def save(self, commit: bool = True) -> Any:
        account = self.user
        assert isinstance(account, Account)
        return actions.set_password(account, self.cleaned_data["new_password1"], acting_user=account, how="reset")


def _organisation_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for organisation in Organisation.objects.select_related("member"):
        groups.setdefault(organisation.member.code, []).append(
            (organisation.slug, f"{organisation.slug} · {organisation.name}")
        )
    return [("", _("The member's only organisation (a new national office if it has none)")), *groups.items()]


class AccountCreateForm(forms.Form):
    INVITE = "invite"
    PASSWORD = "password"  # noqa: S105  (a choice, not a secret)

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and . _ - @"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    member = forms.ChoiceField(label=_("Member"))
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    how = forms.ChoiceField(
        label=_("First password"),
        choices=[
            (INVITE, _("E-mail an invitation with a link to choose a password")),
            (PASSWORD, _("Set an initial password now")),
        ],
        initial=INVITE,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [  # type: ignore[attr-defined]
            (m.code, f"{m.code} · {m.name}") for m in Member.objects.filter(active=True)
        ]
        self.fields["organisation"].choices = _organisation_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        member = Member.objects.filter(code=data.get("member") or "").first()
        slug = data.get("organisation") or ""
        if member is not None and slug:
            organisation = Organisation.objects.filter(slug=slug).select_related("member").first()
            if organisation is None or organisation.member_id != member.pk:
                self.add_error("organisation", _("This organisation is not one of the member's."))
        elif member is not None and Organisation.objects.filter(member=member).count() > 1:
            self.add_error("organisation", _("The member has several organisations: choose one."))
        how = data.get("how")
        if how == self.INVITE and not data.get("email"):
            self.add_error("email", _("An invitation needs an e-mail address."))
        if how == self.PASSWORD and not data.get("password"):
            self.add_error("password", _("Type the initial password, or send an invitation instead."))
        return data


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
