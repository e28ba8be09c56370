"""The return-visit script of the service manual (seed 002), as the default script."""

from django.db import migrations

DEFAULT = {
    "name": "售后回访通用话术",
    "kinds": [],
    "opening": "您好，我是{site}客服中心的{agent}，请问您是{customer}吗？打扰您了。",
    "question": "感谢您在{date}接受了我们的{service}服务，请问您对这次服务满意吗？",
    "satisfied": "您对我们的服务还有什么建议吗？",
    "ordinary": "能否告诉我您觉得哪方面还不够好？我们应该改进哪方面的工作？",
    "dissatisfied": "非常抱歉！能否告诉我您对哪方面不满意？我们会马上安排处理。",
    "closing_satisfied": "感谢您的答复，您如果需要什么帮助，可随时跟我们联系，祝您生活愉快，再见！",
    "closing_other": "非常谢谢您的反馈，这一点我们的确做得不够，我们很快就会改进，望您监督，祝您生活愉快，再见！",
}


def forwards(apps, schema_editor):
    VisitScript = apps.get_model("visits", "VisitScript")
    if not VisitScript.objects.exists():
        VisitScript.objects.create(**DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
