"""``kefu createadmin``: the first administrator account of a new installation."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from kefu.org.models import Role, Staff


class Command(BaseCommand):
    help = "创建系统管理员账号（可登录系统设置）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--name", default="系统管理员")
        parser.add_argument("--password", help="不填则交互输入")

    def handle(self, *args: Any, **options: Any) -> None:
        username, name = options["username"].strip(), options["name"].strip()
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户名 {username} 已存在")
        password = options["password"] or getpass.getpass("密码：")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        with transaction.atomic():
            user = User.objects.create_superuser(username=username, password=password)
            Staff.objects.create(user=user, name=name or username, employee_no=f"ADMIN-{user.pk}", role=Role.ADMIN)
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员：{username}"))
