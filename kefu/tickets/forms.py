"""Form parsing for the ticket pages. Rules stay in services; forms only type the input."""

from __future__ import annotations

from django import forms

from .lifecycle import Kind
from .models import Channel, Urgency


class IntakeForm(forms.Form):
    site = forms.IntegerField(error_messages={"required": "请选择项目", "invalid": "请选择项目"})
    kind = forms.ChoiceField(choices=Kind.choices, error_messages={"required": "请选择工单类型"})
    channel = forms.ChoiceField(choices=Channel.choices, error_messages={"required": "请选择来源渠道"})
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.LOW)
    category = forms.IntegerField(required=False)
    customer = forms.IntegerField(required=False)
    unit = forms.IntegerField(required=False)
    contact_name = forms.CharField(required=False, max_length=50)
    contact_phone = forms.CharField(required=False, max_length=30)
    content = forms.CharField(
        max_length=5000, error_messages={"required": "内容不能为空", "max_length": "内容不能超过 5000 字"}
    )
    answer = forms.CharField(required=False, max_length=5000)
    auto_dispatch = forms.BooleanField(required=False, initial=True)
    major = forms.BooleanField(required=False)
    new_customer = forms.BooleanField(required=False)
    room = forms.CharField(required=False, max_length=40)


class CompleteForm(forms.Form):
    version = forms.IntegerField()
    note = forms.CharField(required=False, max_length=5000)
    work_notes = forms.CharField(required=False, max_length=5000)
    materials = forms.CharField(required=False, max_length=300)
    work_hours = forms.CharField(required=False, max_length=20)
    is_paid = forms.BooleanField(required=False)
    fee = forms.CharField(required=False, max_length=20)
