"""Character tables for name noise: homophones (同音字), similar shapes (形近字), traditional forms.

Only what a clerk plausibly types instead of the right character in a *name*: groups of given-
name characters sharing a toneless reading, pairs that look alike, and the traditional forms a
Hong Kong / Taiwan style input method or an old system produces. Surnames whose traditional
form is the same character (范 沈 于 ...) are deliberately absent from ``TRADITIONAL``.
"""

from __future__ import annotations

HOMOPHONE_GROUPS: tuple[str, ...] = (
    "丽莉俐利立力",
    "玲铃伶灵凌菱",
    "林琳霖麟",
    "华花桦骅",
    "伟玮炜卫维威薇巍",
    "芳方舫",
    "英莹颖瑛盈迎",
    "梅美玫媚",
    "红宏洪鸿虹泓",
    "军俊君骏峻均",
    "小晓筱笑",
    "燕艳妍雁彦",
    "静晶菁敬靖婧京景",
    "敏民珉闵",
    "明铭鸣名茗",
    "浩昊皓豪灏",
    "宇雨玉语羽瑜煜钰予",
    "轩萱宣璇瑄暄",
    "涵晗寒汉翰含",
    "子梓紫姿孜",
    "欣新鑫馨心昕芯",
    "杰洁婕捷",
    "涛韬桃陶",
    "桐彤童瞳",
    "兰岚蓝澜",
    "琴勤芹沁钦",
    "辉慧惠晖卉蕙",
    "斌彬滨宾",
    "强蔷",
    "刚钢岗纲",
    "平萍苹坪",
    "峰锋丰风枫凤",
    "波博柏勃",
    "鹏朋蓬",
    "磊蕾雷",
    "超朝潮",
    "倩茜芊",
    "怡宜仪艺依逸奕毅亦",
    "然冉",
    "晨辰宸琛臣",
    "睿瑞锐蕊",
    "志智芝知",
    "国果",
    "建健剑坚",
    "秀修绣",
    "桂贵",
    "珍真贞振震",
    "清青庆晴卿",
    "春纯淳",
    "山珊杉姗",
    "东冬栋",
    "娟鹃",
    "霞夏侠",
    "泽择",
    "阳洋扬",
    "婷亭庭廷霆",
    "雪学",
    "诗师",
    "琪琦祺奇淇",
    "天甜添",
    "梦萌蒙",
    "思丝斯",
    "凯楷恺",
    "福富芙",
    "德得",
    "生胜盛升",
    "文雯闻",
    "龙隆",
    "勇永涌咏",
    "佳家嘉加",
    "祥翔香湘",
    "月悦越跃岳",
    "菊橘",
    "珠竹",
    "淑书舒",
    "素苏",
    "翠萃",
    "满曼蔓",
    "沐慕牧",
    "熙曦希溪汐",
    "铭明",
    "宏弘",
    "豪毫",
    "航杭",
    "帅率",
    "博搏",
    "晶精",
    "丹单",
    "璐露路鹭",
    "彬斌",
)

SIMILAR_SHAPE_PAIRS: tuple[str, ...] = (
    "己已",
    "未末",
    "王玉",
    "玲铃",
    "土士",
    "日曰",
    "天夭",
    "人入",
    "千干",
    "贝见",
    "戌戍",
    "候侯",
    "晴睛",
    "清请",
    "杨扬",
    "梁粱",
    "萍苹",
    "佳住",
    "浩皓",
    "梅海",
    "娟涓",
    "军车",
    "明朋",
    "刚冈",
    "峰锋",
    "凤风",
    "宇字",
    "彬杉",
    "秀季",
    "婷停",
    "霞瑕",
    "辉晖",
    "琳淋",
    "珍诊",
    "英瑛",
    "林材",
    "俊浚",
    "伟传",
    "丽骊",
    "芳劳",
    "建健",
    "晓哓",
    "雪雷",
    "季李",
    "娜挪",
    "茜茵",
    "莹萤",
    "倩债",
    "冬东",
    "兵乒",
)

TRADITIONAL: dict[str, str] = dict(
    zip(
        "张刘陈杨赵黄吴孙罗郑谢韩冯邓许叶苏卢蒋贾钟阎闫龚汤龙顾贺陆钱乔赖严萧肖谭邹万"
        "伟华国军强兰丽红辉杰涛刚鹏东凤云梦晓颖轩诺语铭泽阳莹艳静洁宁凯贵荣庆胜宝兴义礼"
        "飞爱学长乐书发卫进团跃顺达锋钢诗滢纯贞娇琼玮鸿骏晖钦芸岚澜伦纶诚训让谊谦"
        "时欢锦沣铁银镇锡",
        "張劉陳楊趙黃吳孫羅鄭謝韓馮鄧許葉蘇盧蔣賈鍾閻閆龔湯龍顧賀陸錢喬賴嚴蕭蕭譚鄒萬"
        "偉華國軍強蘭麗紅輝傑濤剛鵬東鳳雲夢曉穎軒諾語銘澤陽瑩艷靜潔寧凱貴榮慶勝寶興義禮"
        "飛愛學長樂書發衛進團躍順達鋒鋼詩瀅純貞嬌瓊瑋鴻駿暉欽蕓嵐瀾倫綸誠訓讓誼謙"
        "時歡錦灃鐵銀鎮錫",
        strict=True,
    )
)


def _homophone_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for group in HOMOPHONE_GROUPS:
        for ch in group:
            index.setdefault(ch, group)
    return index


def _similar_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for pair in SIMILAR_SHAPE_PAIRS:
        a, b = list(pair)  # two characters
        index.setdefault(a, b)
        index.setdefault(b, a)
    return index


HOMOPHONES: dict[str, str] = _homophone_index()  # char -> its whole group
SIMILAR_SHAPES: dict[str, str] = _similar_index()  # char -> its look-alike
