"""The manager's score sheet of the source manual (客户服务部经理绩效测评标准): four sections,
each item scored 0–5 by the superior."""

from django.db import migrations

SECTIONS = {
    "业务工作": [
        "定期对客户进行调查，了解客户意见",
        "紧急处理客户投诉，做到让客户满意",
        "编制客户投诉案件统计表和客户投诉案件登记追踪表",
        "建立客户投诉案件资料",
        "合理调配内部人员，形成科学、有层次的人员结构",
        "制定部门员工教育、培训计划，培养管理人员",
        "编制部门年度预算计划，并督促有效执行",
    ],
    "管理监督": [
        "追踪投诉案件的处理",
        "监督客户意见调查实施",
        "用人发挥个人所长，调动各类人员的积极性",
        "有效进行团队管理，共同完成各项任务",
        "监督部门内各项管理制度、细则、计划的执行",
        "主持制定、完善管理制度，严格奖惩并监督执行",
        "善于放手让下属工作，鼓励相互协作",
        "正确授予下属与其任务相应的责任与权力",
        "正确教育下属，使其在规定时间内高效工作",
    ],
    "指导协调": [
        "正确协调企业与客户的利益关系，企业不亏、客户满意",
        "协调流通与配送工作，使客户快速得到所需",
        "提高服务速度，建立客户对服务的信赖",
        "保证客户意见和信息渠道畅通",
        "与上级、下属、同事建立协调、和谐的工作环境",
        "及时运用物质和精神激励，调动部下积极性",
        "客观考核下属的工作能力、工作绩效",
        "积极训练、教育下属，提高工作技能和素质",
        "教育下属了解企业各方面的政策和规章",
        "及时指出下属工作中的失误，并提出改正方案",
        "维持良好的内外部人际关系，使工作顺利进行",
    ],
    "审查报告": [
        "提出客户服务计划性报告",
        "提出客户需求意见报告",
        "审查客户服务工作报告",
        "审核客户服务意外事故报告",
        "审核部门服务经费控制报告",
        "审查客户服务档案文件编制报告",
        "工作总结报告及时、准确、真实",
        "细心听取工作情况报告，并予以相应指示",
        "审核工作成绩是否达到预期目标或计划要求",
        "审查下属是否正确认识工作意义、努力取得最佳业绩",
    ],
}


def forward(apps, schema_editor):
    SheetTemplate = apps.get_model("appraisal", "SheetTemplate")
    SheetItem = apps.get_model("appraisal", "SheetItem")
    if SheetTemplate.objects.filter(name="客户服务部经理绩效测评标准").exists():
        return
    template = SheetTemplate.objects.create(name="客户服务部经理绩效测评标准", role="manager")
    position = 0
    for section, items in SECTIONS.items():
        for text in items:
            position += 1
            SheetItem.objects.create(template=template, section=section, text=text, max_score=5, position=position)


def backward(apps, schema_editor):
    apps.get_model("appraisal", "SheetTemplate").objects.filter(name="客户服务部经理绩效测评标准").delete()


class Migration(migrations.Migration):
    dependencies = [("appraisal", "0002_score_sheets")]
    operations = [migrations.RunPython(forward, backward)]
