import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from kefu.org.models import Role, Staff

pytestmark = pytest.mark.django_db


def test_createadmin_makes_a_superuser_with_an_admin_profile():
    call_command("createadmin", username="root2", password="a-strong-pass-9")
    staff = Staff.objects.get(user__username="root2")
    assert staff.role == Role.ADMIN and staff.user.is_superuser
    assert authenticate(username="root2", password="a-strong-pass-9") == staff.user


def test_createadmin_refuses_weak_password_and_duplicates():
    with pytest.raises(CommandError):
        call_command("createadmin", username="root3", password="123")
    assert not Staff.objects.filter(user__username="root3").exists()
    call_command("createadmin", username="root4", password="a-strong-pass-9")
    with pytest.raises(CommandError, match="已存在"):
        call_command("createadmin", username="root4", password="a-strong-pass-9")
