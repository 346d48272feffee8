"""How each department writes its files: format, encoding, date style, sex codes, headers.

One place for the conventions the writers follow and the noise departs from. Date styles index
``noise.DATE_FORMATS``: 0 ``2021-03-05``, 1 ``2021/3/5``, 2 ``20210305``, 3 ``2021.03.05``,
4 ``2021年3月5日``.
"""

from __future__ import annotations

# XLSX is what a township clerk would send, but xlsxwriter writes ~100k cells a second:
# hukou registers above this many rows are delivered as GB18030 CSV instead.
HUKOU_XLSX_MAX_ROWS = 50_000

# (source, file kind) → usual date style; sex codes per source
DATE_STYLE = {
    ("population", ""): 0,
    ("hukou", ""): 2,
    ("death", "火化"): 1,
    ("death", "死亡医学证明"): 4,
    ("marriage", ""): 3,
    ("birth_certificate", ""): 4,
    ("maternity_insurance", ""): 2,
    ("vaccination", ""): 0,
    ("school", ""): 1,
}
SEX_CODES = {
    "population": ("男", "女"),
    "hukou": ("1", "2"),
    "death": ("男", "女"),
    "birth_certificate": ("M", "F"),
    "vaccination": ("1", "2"),
    "school": ("男", "女"),
}

# canonical column → Chinese header, in file order (docs/interfaces.md)
HEADERS: dict[str, dict[str, str]] = {
    "population": {
        "person_id": "人员编号",
        "name": "姓名",
        "sex": "性别",
        "id_number": "公民身份号码",
        "birth_date": "出生日期",
        "ethnicity": "民族",
        "household_id": "户号",
        "relation_to_head": "与户主关系",
        "marital_status": "婚姻状况",
        "hukou_type": "户口性质",
        "hukou_address": "户籍地址",
        "current_address": "现住地址",
        "township": "乡镇(街道)",
        "village": "村(社区)",
        "status": "人员状态",
        "updated_at": "更新日期",
    },
    "hukou": {
        "record_id": "户籍记录编号",
        "name": "姓名",
        "former_name": "曾用名",
        "sex": "性别",
        "id_number": "公民身份号码",
        "birth_date": "出生日期",
        "ethnicity": "民族",
        "household_id": "户号",
        "relation_to_head": "与户主关系",
        "hukou_address": "户籍地址",
        "hukou_type": "户口性质",
        "hukou_status": "户口状态",
        "change_date": "变动日期",
        "moved_to": "迁往地址",
    },
    "death": {
        "record_id": "记录编号",
        "name": "姓名",
        "sex": "性别",
        "id_number": "公民身份号码",
        "birth_date": "出生日期",
        "death_date": "死亡日期",
        "address": "生前住址",
        "origin": "数据来源",
    },
    "marriage": {
        "record_id": "登记编号",
        "registration_type": "登记类型",
        "registration_date": "登记日期",
        "husband_name": "男方姓名",
        "husband_id_number": "男方证件号码",
        "husband_birth_date": "男方出生日期",
        "wife_name": "女方姓名",
        "wife_id_number": "女方证件号码",
        "wife_birth_date": "女方出生日期",
        "registry_office": "登记机关",
    },
    "birth_certificate": {
        "record_id": "出生医学证明编号",
        "child_name": "新生儿姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "birth_place": "出生地点",
        "mother_name": "母亲姓名",
        "mother_id_number": "母亲身份证件号码",
        "father_name": "父亲姓名",
        "father_id_number": "父亲身份证件号码",
        "address": "家庭住址",
    },
    "maternity_insurance": {
        "record_id": "记录编号",
        "name": "姓名",
        "id_number": "公民身份号码",
        "employer": "参保单位",
        "benefit_type": "待遇类型",
        "delivery_date": "生育日期",
        "babies": "生育胎数",
    },
    "vaccination": {
        "record_id": "受种者编码",
        "child_name": "儿童姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "id_number": "身份证号码",
        "mother_name": "母亲姓名",
        "guardian_id_number": "监护人身份证号码",
        "address": "居住地址",
        "clinic": "接种单位",
        "registered_on": "建档日期",
    },
    "school": {
        "record_id": "学籍号",
        "name": "姓名",
        "sex": "性别",
        "birth_date": "出生日期",
        "id_number": "身份证号码",
        "guardian_name": "监护人姓名",
        "guardian_id_number": "监护人身份证号码",
        "address": "家庭住址",
        "school": "学校名称",
        "grade": "年级",
    },
}

# date columns per source
DATE_COLUMNS = {
    "population": ("birth_date", "updated_at"),
    "hukou": ("birth_date", "change_date"),
    "death": ("birth_date", "death_date"),
    "marriage": ("registration_date", "husband_birth_date", "wife_birth_date"),
    "birth_certificate": ("birth_date",),
    "maternity_insurance": ("delivery_date",),
    "vaccination": ("birth_date", "registered_on"),
    "school": ("birth_date",),
}
