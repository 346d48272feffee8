"""Reference tables for Chinese personal names: compound surnames, surname readings, variants.

Keys are simplified characters: lookups are made on the comparison key (after OpenCC t2s and
variant folding), so 歐陽/欧阳 and 單/单 hit the same entry.
"""

from __future__ import annotations

#: Compound surnames (复姓) with their readings. Deliberately left out because the same two
#: characters are far more often a single surname plus a given-name character: 吴铭, 宗政,
#: 乐正, 左丘, 梁丘, 仲长.
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ouyang", "太史": "taishi", "端木": "duanmu", "上官": "shangguan",
    "司马": "sima", "东方": "dongfang", "独孤": "dugu", "南宫": "nangong",
    "万俟": "moqi", "闻人": "wenren", "夏侯": "xiahou", "诸葛": "zhuge",
    "尉迟": "yuchi", "公羊": "gongyang", "赫连": "helian", "澹台": "tantai",
    "皇甫": "huangfu", "濮阳": "puyang", "公冶": "gongye", "太叔": "taishu",
    "申屠": "shentu", "公孙": "gongsun", "慕容": "murong", "仲孙": "zhongsun",
    "钟离": "zhongli", "长孙": "zhangsun", "宇文": "yuwen", "司徒": "situ",
    "鲜于": "xianyu", "司空": "sikong", "闾丘": "lvqiu", "子车": "ziju",
    "亓官": "qiguan", "司寇": "sikou", "巫马": "wuma", "公西": "gongxi",
    "颛孙": "zhuansun", "壤驷": "rangsi", "公良": "gongliang", "漆雕": "qidiao",
    "宰父": "zaifu", "谷梁": "guliang", "拓跋": "tuoba", "夹谷": "jiagu",
    "轩辕": "xuanyuan", "令狐": "linghu", "段干": "duangan", "百里": "baili",
    "呼延": "huyan", "东郭": "dongguo", "南门": "nanmen", "羊舌": "yangshe",
    "微生": "weisheng", "公户": "gonghu", "公玉": "gongyu", "公仪": "gongyi",
    "公仲": "gongzhong", "公上": "gongshang", "公门": "gongmen", "公山": "gongshan",
    "公坚": "gongjian", "公伯": "gongbo", "西门": "ximen", "公祖": "gongzu",
    "第五": "diwu", "公乘": "gongsheng", "贯丘": "guanqiu", "公皙": "gongxi",
    "南荣": "nanrong", "东里": "dongli", "东宫": "donggong", "子书": "zishu",
    "子桑": "zisang", "即墨": "jimo", "达奚": "daxi", "褚师": "chushi",
    "单于": "chanyu", "呼衍": "huyan", "完颜": "wanyan", "爱新觉罗": "aixinjueluo",
}

#: Surnames whose reading differs from pypinyin's default (or is easily misread). Applied to
#: the surname part only: 单 in a given name keeps its default reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha",
    "朴": "piao", "覃": "qin", "盖": "ge", "乐": "yue", "缪": "miao", "燕": "yan",
    "华": "hua", "任": "ren", "纪": "ji", "秘": "bi", "那": "na", "尉": "wei",
    "洗": "xian", "冼": "xian", "召": "shao", "种": "chong", "翟": "zhai", "郇": "xun",
    "员": "yun", "折": "she", "繁": "po", "隗": "wei", "句": "gou", "过": "guo",
    "阚": "kan", "柏": "bai", "薄": "bo", "宿": "su", "长": "chang", "藏": "zang",
    "能": "nai", "都": "du", "么": "yao", "炅": "gui", "乜": "nie", "祭": "zhai",
    "粘": "nian", "佴": "nai", "卜": "bu", "黑": "he", "重": "chong", "角": "jue",
    "贲": "ben", "莘": "shen", "沈": "shen", "石": "shi", "叶": "ye", "谌": "chen",
    "仉": "zhang", "亓": "qi", "訾": "zi", "逄": "pang", "厍": "she", "禚": "zhuo",
    "眭": "sui", "殷": "yin", "应": "ying", "晟": "cheng", "盛": "sheng", "贾": "jia",
    "葛": "ge", "褚": "chu", "臧": "zang", "车": "che", "相": "xiang", "曲": "qu",
    "朝": "chao", "万": "wan", "於": "yu", "于": "yu", "尹": "yin", "蕃": "pi",
}

#: Variant characters (异体字) folded in the comparison key only, after OpenCC t2s.
VARIANT_CHARS: dict[str, str] = {
    "𠮷": "吉", "堃": "坤", "喆": "哲", "峯": "峰", "羣": "群", "邨": "村", "甦": "苏",
    "凃": "涂", "囯": "国", "冨": "富", "寳": "宝", "斈": "学", "峩": "峨", "嵗": "岁",
    "恊": "协", "栢": "柏", "秊": "年", "夀": "寿", "靑": "青", "眞": "真", "淸": "清",
    "緖": "绪", "煕": "熙", "凞": "熙", "敎": "教", "兎": "兔", "戸": "户", "黒": "黑",
    "玆": "兹", "珎": "珍", "塲": "场", "衞": "卫", "麪": "面", "蔴": "麻", "棊": "棋",
    "菓": "果", "凖": "准", "姉": "姊", "昇": "升", "綉": "绣", "敍": "叙", "敘": "叙",
    "婣": "姻", "沖": "冲", "迺": "乃", "廼": "乃", "勳": "勋", "勲": "勋",
}

#: Characters OpenCC t2s must leave alone in names: 乾 (qian, a surname and a common
#: given-name character) is not 干.
T2S_KEEP: frozenset[str] = frozenset({"乾"})

#: Surnames kept unconverted in the key: 於 and 于 are different surnames.
KEY_PROTECTED_SURNAMES: frozenset[str] = frozenset({"於"})
