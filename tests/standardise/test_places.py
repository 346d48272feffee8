"""Where a move goes: addresses written as 户籍 writes them, placed by province and county,
and nothing guessed where the writing is ambiguous."""

from __future__ import annotations

import pytest

from linkage.standardise.places import Place, place, short_forms


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # in the province of the demo county (湖南, 43), written several ways
        ("湖南省湘西土家族苗族自治州龙山县民安街道", Place("43", "433130")),
        ("湘西州龙山县", Place("43", "433130")),
        ("湘西龙山县", Place("43", "433130")),
        ("湘龙山县", Place("43", "433130")),
        ("433130", Place("43", "433130")),
        ("迁往 433130 龙山县", Place("43", "433130")),
        ("湖南省长沙市岳麓区麓山南路1号", Place("43", "430104")),
        ("长沙县星沙街道", Place("43", "430121")),
        ("长沙市", Place("43", None)),
        ("湖南", Place("43", None)),
        ("湘", Place("43", None)),
        # out of the province
        ("广东省深圳市南山区桃园路1号", Place("44", "440305")),
        ("深圳市南山区", Place("44", "440305")),
        ("广东深圳", Place("44", None)),
        ("粤", Place("44", None)),
        ("浙江省杭州市西湖区", Place("33", "330106")),
        ("北京市朝阳区建国路", Place("11", "110105")),
        ("辽宁省朝阳市朝阳县", Place("21", "211321")),
        ("重庆市万州区", Place("50", "500101")),
        ("湖北省恩施州来凤县", Place("42", "422827")),
        ("上海市湖南路8号", Place("31", None)),  # a street named after 湖南 is in 上海
        ("新疆乌鲁木齐", Place("65", None)),  # the city, not 乌鲁木齐县
        ("ＧＵＡＮＧ 广 东 省", Place("44", None)),  # full-width, spaces
        # not placed: nothing is guessed
        ("南山区", Place()),  # 深圳 and 鹤岗 both have one
        ("外省", Place()),
        ("不详", Place()),
        ("", Place()),
        (None, Place()),
    ],
)
def test_an_address_is_placed_by_province_and_county(written: str | None, expected: Place) -> None:
    assert place(written) == expected


def test_short_forms_drop_the_kind_and_the_nationalities() -> None:
    assert short_forms("湘西土家族苗族自治州") == {"湘西土家族苗族自治州", "湘西"}
    assert short_forms("广西壮族自治区") == {"广西壮族自治区", "广西"}
    assert short_forms("长阳土家族自治县") == {"长阳土家族自治县", "长阳"}
    assert short_forms("沙县") == {"沙县"}  # one character is no name
