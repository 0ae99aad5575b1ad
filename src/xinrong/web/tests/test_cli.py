import pytest

from xinrong.cli import main
from xinrong.enterprises.tests.factories import valid_uscc


def test_check_code_prints_the_parts_of_a_valid_code(capsys):
    code = valid_uscc(seed=3, division="630102")
    assert main(["check-code", code]) == 0
    out = capsys.readouterr().out
    assert "有效" in out
    assert "630102" in out
    assert "城东区" in out


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c[:-1], "长度"),
        (lambda c: c[:4] + "I" + c[5:], "第5位"),
        (lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"), "校验"),
        (lambda c: "Z" + c[1:], "第1位"),
    ],
)
def test_check_code_pinpoints_each_fault(capsys, mutate, needle):
    assert main(["check-code", mutate(valid_uscc(seed=4))]) == 1
    assert needle in capsys.readouterr().out


def test_check_code_needs_one_argument(capsys):
    assert main(["check-code"]) == 2
