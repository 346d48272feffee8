"""The Chinese headers of each department's export, as docs/interfaces.md lists them: the
test inboxes are written with these (the contracts are tested against the same lists)."""

from __future__ import annotations

POP_HEADER = [
    "人员编号",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "民族",
    "户号",
    "与户主关系",
    "婚姻状况",
    "户口性质",
    "户籍地址",
    "现住地址",
    "乡镇(街道)",
    "村(社区)",
    "人员状态",
    "更新日期",
]
HUKOU_HEADER = [
    "户籍记录编号",
    "姓名",
    "曾用名",
    "性别",
    "公民身份号码",
    "出生日期",
    "民族",
    "户号",
    "与户主关系",
    "户籍地址",
    "户口性质",
    "户口状态",
    "变动日期",
    "迁往地址",
]
DEATH_HEADER = [
    "记录编号",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "死亡日期",
    "生前住址",
    "数据来源",
]
MAR_HEADER = [
    "登记编号",
    "登记类型",
    "登记日期",
    "男方姓名",
    "男方证件号码",
    "男方出生日期",
    "女方姓名",
    "女方证件号码",
    "女方出生日期",
    "登记机关",
]
BC_HEADER = [
    "出生医学证明编号",
    "新生儿姓名",
    "性别",
    "出生日期",
    "出生地点",
    "母亲姓名",
    "母亲身份证件号码",
    "父亲姓名",
    "父亲身份证件号码",
    "家庭住址",
]
