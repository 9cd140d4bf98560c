"""The S-FEEL subset our decision tables accept: a tokenizer and recursive-descent parser for cells.

Input entries are *simple unary tests* (DMN 1.3 grammar rules 7-18 plus FEEL's `=`/`!=` endpoints and
`null`); output entries are plain literals. Nothing here evaluates code: cells become small immutable
trees that `match.py` compiles into matchers and `check.py` reasons about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine.i18n import _

COMPARISONS = ("<", "<=", ">", ">=")
EQUALITIES = ("=", "!=")


class SfeelSyntaxError(ValueError):
    """A cell does not parse. The message says what to write instead; `not_literal` marks a bare word where a
    literal was wanted (the message already says literals only)."""

    def __init__(self, message: str, not_literal: bool = False):
        super().__init__(message)
        self.not_literal = not_literal


@dataclass(frozen=True, slots=True)
class Compare:
    """`op value`; a bare literal is `= value`. `op` is one of = != < <= > >=."""

    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Range:
    """An interval `[low..high]`; `]`/`(` at the start or `[`/`)` at the end make that end open."""

    low: Any
    high: Any
    low_closed: bool
    high_closed: bool


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """One input entry: a comma list of positive tests, optionally inside `not(...)`; no tests means `-`."""

    tests: tuple[Compare | Range, ...]
    negated: bool = False

    @property
    def is_any(self) -> bool:
        return not self.tests


ANY = UnaryTests(())

# Chinese punctuation typed by mistake in dmn-js: name the wrong character and its replacement.
_FULL_WIDTH = {
    "“": '"',
    "”": '"',
    "‘": '"',
    "’": '"',
    "，": ",",
    "（": "(",
    "）": ")",
    "【": "[",
    "】": "]",
    "＜": "<",
    "＞": ">",
    "＝": "=",
    "－": "-",
    "。": ".",
    "．": ".",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
}
_OPERATORS = ("..", "<=", ">=", "!=", "<", ">", "=", ",", "(", ")", "[", "]", "-")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")
_NAME = re.compile(r"[^\W\d]\w*")
_SPACE = re.compile(r"\s+")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "str", "num", "name", "op" or "end"
    value: Any
    pos: int  # 0-based character offset, shown 1-based


def _error(pos: int, message: str, not_literal: bool = False) -> SfeelSyntaxError:
    return SfeelSyntaxError(_("第 %(n)s 个字符处%(problem)s", n=pos + 1, problem=message), not_literal)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if space := _SPACE.match(text, pos):
            pos = space.end()
        elif char == '"':
            value, pos_after = _read_string(text, pos)
            tokens.append(_Token("str", value, pos))
            pos = pos_after
        elif char in _FULL_WIDTH:
            raise _error(
                pos,
                _("用了中文标点 %(char)s，请改用英文半角的 %(ascii)s", char=char, ascii=_FULL_WIDTH[char]),
            )
        elif char == "'":
            raise _error(pos, _('用了单引号，字符串请用英文双引号括起来，例如 "工业"'))
        elif (number := _NUMBER.match(text, pos)) and not text.startswith("..", pos):
            tokens.append(_Token("num", Decimal(number.group()), pos))
            pos = number.end()
        elif name := _NAME.match(text, pos):
            tokens.append(_Token("name", name.group(), pos))
            pos = name.end()
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
            if operator is None:
                raise _error(pos, _("无法识别的符号“%(char)s”", char=char))
            tokens.append(_Token("op", operator, pos))
            pos += len(operator)
    tokens.append(_Token("end", None, len(text)))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char in "\r\n":
            break
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        code = text[pos + 1 : pos + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            pos += 2
        elif code in ("u", "U"):
            width = 4 if code == "u" else 6
            digits = text[pos + 2 : pos + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise _error(
                    pos, _("的转义 \\%(code)s 后应跟 %(width)s 位十六进制数字", code=code, width=width)
                )
            out.append(chr(int(digits, 16)))
            pos += 2 + width
        else:
            raise _error(pos, _('的转义 \\%(code)s 无效（可用 \\" \\\\ \\n \\t \\uXXXX）', code=code))
    raise _error(start, _("的字符串缺少结尾的双引号"))


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.at = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.value in ops

    def expect_op(self, op: str, what: str) -> None:
        if not self.is_op(op):
            raise _error(
                self.token.pos,
                _("应为 %(op)s（%(what)s），%(found)s", op=op, what=what, found=_found(self.token)),
            )
        self.take()

    def expect_end(self) -> None:
        if self.token.kind != "end":
            raise _error(self.token.pos, _("%(extra)s；多个条件请用英文逗号分隔", extra=_extra(self.token)))

    def unary_tests(self) -> UnaryTests:
        if self.token.kind == "end" or (self.is_op("-") and self.tokens[1].kind == "end"):
            return ANY
        if (
            self.token.kind == "name"
            and self.token.value == "not"
            and self.tokens[1].value == "("
            and self.tokens[1].kind == "op"
        ):
            self.at += 2
            tests = self.positive_tests()
            self.expect_op(")", _("not(...) 的右括号"))
            self.expect_end()
            return UnaryTests(tests, negated=True)
        tests = self.positive_tests()
        self.expect_end()
        return UnaryTests(tests)

    def positive_tests(self) -> tuple[Compare | Range, ...]:
        tests = [self.positive_test()]
        while self.is_op(","):
            self.take()
            tests.append(self.positive_test())
        return tuple(tests)

    def positive_test(self) -> Compare | Range:
        if self.is_op(*COMPARISONS, *EQUALITIES):
            op = self.take().value
            return Compare(op, self.endpoint())
        if self.is_op("[", "]", "("):
            low_closed = self.take().value == "["
            low = self.endpoint()
            self.expect_op("..", _("区间写法如 [1..10]"))
            high = self.endpoint()
            if not self.is_op("]", "[", ")"):
                raise _error(self.token.pos, _("应为区间结尾的 ] 或 ) 或 ["))
            high_closed = self.take().value == "]"
            return Range(low, high, low_closed, high_closed)
        return Compare("=", self.endpoint())

    def endpoint(self) -> Any:
        token = self.take()
        if token.kind in ("str", "num"):
            return token.value
        if token.kind == "name":
            return self.named_literal(token)
        if token.kind == "end":
            raise _error(token.pos, _("缺少值"))
        raise _error(token.pos, _("应为一个值，%(found)s", found=_found(token)))

    def named_literal(self, token: _Token) -> Any:
        word = token.value
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if word == "date" and self.tokens[self.at].kind == "name" and self.tokens[self.at].value == "and":
            raise _error(token.pos, _('的 date and time(...) 暂不支持，请只比较日期 date("YYYY-MM-DD")'))
        if word == "date" and self.is_op("("):
            self.take()
            text = self.take()
            if text.kind != "str":
                raise _error(text.pos, _('应为带双引号的日期，例如 date("2024-10-01")'))
            self.expect_op(")", _("date(...) 的右括号"))
            return parse_date(text.value, text.pos)
        if word in ("time", "duration") and self.is_op("("):
            raise _error(token.pos, _("的 %(word)s(...) 暂不支持", word=word))
        raise _error(
            token.pos,
            _(
                '的“%(word)s”不是字面值：字符串要用英文双引号括起来（例如 "%(word)s"），单元格里不能引用变量',
                word=word,
            ),
            not_literal=True,
        )


def _found(token: _Token) -> str:
    """What stands where something else was expected ("found …")."""
    if token.kind == "end":
        return _("实际是结尾")
    if token.kind == "str":
        return _('实际是 "%(value)s"', value=token.value)
    return _("实际是“%(value)s”", value=token.value)


def _extra(token: _Token) -> str:
    """A token left over after a complete condition ("… is extra")."""
    if token.kind == "str":
        return _('多出了 "%(value)s"', value=token.value)
    return _("多出了“%(value)s”", value=token.value)


def parse_date(text: str, pos: int = 0) -> date:
    """`YYYY-MM-DD` → date; anything else is a syntax error."""
    if not _ISO_DATE.fullmatch(text):
        raise _error(pos, _('的日期“%(text)s”格式应为 YYYY-MM-DD，例如 date("2024-10-01")', text=text))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _error(pos, _("的日期“%(text)s”不存在", text=text)) from None


def parse_unary_tests(text: str | None) -> UnaryTests:
    """Parse one input entry. Empty text and `-` mean "any value".

    :raises SfeelSyntaxError: with a message locating the problem.
    """
    return _Parser((text or "").strip()).unary_tests()


def parse_literal(text: str) -> Any:
    """Parse one output entry (or allowed value): a string, number, boolean, null or date literal.

    :raises SfeelSyntaxError: for anything else, e.g. an expression.
    """
    try:
        parser = _Parser(text.strip())
        value = parser.endpoint()
        parser.expect_end()
    except SfeelSyntaxError as exc:
        if exc.not_literal:
            raise
        raise SfeelSyntaxError(
            _('%(problem)s；这里只能写字面值，例如 "红"、5、true、null', problem=exc)
        ) from None
    return value


def format_value(value: Any) -> str:
    """Render a literal the way it would be written in a cell: `"工业"`, `5`, `true`, `date("…")`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return str(value)


def kind_of(value: Any) -> str:
    """The FEEL kind of a Python value: null, boolean, number, string, date or other."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, date) and value.__class__ is date:
        return "date"
    return "other"
