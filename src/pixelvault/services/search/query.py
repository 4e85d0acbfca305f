"""Queries as OMERO's Lucene search takes them, turned into tantivy queries.

Terms (``gfp``), ``field:term``, quoted phrases, ``AND``/``OR``/``NOT`` (and ``+``,
``-``), parentheses, ``*`` and ``?`` wildcards (not at a term's start: that would
read the whole dictionary), date ranges (``created:[2026-01-01 TO 2026-06-30]``,
``{...}`` excluding the ends, ``*`` open; ``[* TO *]`` is any date, as in Lucene).
Terms next to each other must all match (AND), as people expect of a search box.
Anything else is refused with a message that says what to write instead, before
the index sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pixelvault.errors import InvalidInputError
from pixelvault.services.search.schema import (
    DATE_FIELDS,
    DEFAULT_FIELD,
    KV_FIELD,
    RAW_FIELDS,
    TEXT_FIELDS,
    kv_key,
)

MAX_LENGTH = 1000
# The index keeps dates as 64-bit nanoseconds (1677-09-21 to 2262-04-11): a bound beyond
# these is no bound, and a range wholly beyond them matches nothing.
EARLIEST = datetime(1678, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 1, 1, tzinfo=UTC)
MAX_CLAUSES = 64
_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"?|[()]|\[|\]|\{|\}|[^\s()"\[\]{}]+')
_WORDS = re.compile(r"[^\W_]+")
FIELD_ALIASES = {"type": "kind", "owner": "owner", "group": "group", "tags": "tag",
                 "comments": "comment", "files": "file", "channels": "channel",
                 "names": "name", "rois": "roi"}


class QueryError(InvalidInputError):
    """A query that cannot be searched; the message says how to write it."""


class UnknownFieldError(QueryError):
    """A field no index field or known key-value key is named."""


def words(text: str) -> list[str]:
    """The index's analyzer: lower-cased runs of letters and digits, at most 40 long."""
    return [w for w in _WORDS.findall(text.lower()) if len(w) <= 40]


# The parsed query, before it meets tantivy ------------------------------------------
@dataclass(frozen=True)
class Term:
    field: str | None
    text: str
    phrase: bool = False


@dataclass(frozen=True)
class Range:
    field: str
    low: datetime | None
    high: datetime | None
    include_low: bool
    include_high: bool


@dataclass(frozen=True)
class Clause:
    occur: str  # "must", "should" or "not"
    node: Any


@dataclass(frozen=True)
class Group:
    clauses: tuple[Clause, ...]


def _tokens(text: str) -> list[str]:
    found = [t for t in _TOKEN.findall(text) if not t.isspace()]
    return found


def _date(text: str, end: bool) -> datetime | None:
    if text == "*":
        return None
    for fmt, step in (("%Y-%m-%d", timedelta(days=1)), ("%Y-%m", None), ("%Y", None)):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if end and fmt == "%Y-%m-%d" and step is not None:
            try:
                return moment + step - timedelta(microseconds=1)
            except OverflowError:  # the end of 9999-12-31
                return datetime.max.replace(tzinfo=UTC)
        return moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{text!r} is not a date: write YYYY-MM-DD (or an ISO time, or *)") \
            from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Parser:
    def __init__(self, text: str, fields: set[str]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.fields = fields
        self.clauses = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def group(self, closing: str | None = None) -> Group:
        clauses: list[Clause] = []
        pending_or = False
        while (token := self.peek()) is not None:
            if token == ")":  # noqa: S105 - a parenthesis, not a password
                if closing != ")":
                    raise QueryError("a ')' without its '('; balance the parentheses")
                self.take()
                return self._finish(clauses, pending_or)
            if token in ("AND", "&&"):
                self.take()
                continue
            if token in ("OR", "||"):
                self.take()
                if not clauses:
                    raise QueryError("OR needs a term before it")
                pending_or = True
                continue
            occur = "must"
            if token in ("NOT", "!"):
                self.take()
                if self.peek() in (None, ")"):
                    raise QueryError(f"{token} needs a term after it, e.g. NOT draft")
                occur = "not"
            elif token.startswith(("-", "+")) and len(token) > 1:
                self.tokens[self.position] = token[1:]
                occur = "not" if token[0] == "-" else "must"
            node = self.unit()
            self.clauses += 1
            if self.clauses > MAX_CLAUSES:
                raise QueryError(f"more than {MAX_CLAUSES} terms; ask a shorter question")
            clauses.append(Clause(occur, node))
        if closing == ")":
            raise QueryError("a '(' without its ')'; balance the parentheses")
        return self._finish(clauses, pending_or)

    @staticmethod
    def _finish(clauses: list[Clause], any_or: bool) -> Group:
        if not clauses:
            raise QueryError("an empty query (or empty parentheses); give at least one term")
        if any_or:  # Lucene's reading: OR between them, NOT stays NOT
            clauses = [Clause("should" if c.occur == "must" else c.occur, c.node)
                       for c in clauses]
        return Group(tuple(clauses))

    def unit(self) -> Any:
        token = self.take()
        if token == "(":  # noqa: S105 - a parenthesis
            return self.group(")")
        if token in ("[", "]", "{", "}"):
            raise QueryError(f"a '{token}' out of place: ranges are written "
                             "field:[FROM TO TO]")
        if token.startswith('"'):
            return self._phrase(None, token)
        field, sep, rest = token.partition(":")
        if sep and field and not field.startswith(("*", "?")):
            name = self._field(field)
            if not rest:
                following = self.peek()
                if following is None:
                    raise QueryError(f"{field}: needs a term after it")
                if following in ("[", "{"):
                    return self._range(name, self.take())
                if following == "(":
                    if name in DATE_FIELDS:
                        raise QueryError(f"{field}:(...) groups words; give a date or a "
                                         f"range, e.g. {field}:[2026-01-01 TO 2026-06-30]")
                    self.take()
                    inner = self.group(")")
                    return _with_field(inner, name)
                rest = self.take()
            if rest.startswith('"'):
                return self._phrase(name, rest)
            return self._term(name, rest)
        return self._term(None, token)

    def _field(self, field: str) -> str:
        name = FIELD_ALIASES.get(field.lower(), field.lower())
        if name in (*TEXT_FIELDS, *RAW_FIELDS, *DATE_FIELDS, "kind", DEFAULT_FIELD):
            return name
        key = kv_key(field)
        if key and key in self.fields:
            return f"{KV_FIELD}.{key}"
        raise UnknownFieldError(
            f"unknown field {field!r}; search name, description, owner, group, tag, comment, "
            "file, path, channel, format, content, mimetype, hash, type, created, modified, "
            "or a key of a key-value annotation")

    def _phrase(self, field: str | None, token: str) -> Term:
        if len(token) < 2 or not token.endswith('"') or token.endswith('\\"'):
            raise QueryError("a quote without its closing quote; close the phrase with \"")
        if field in DATE_FIELDS:  # created:"2026-01-01" is the date itself
            return self._term(field, token[1:-1].strip())
        return Term(field, token[1:-1].replace('\\"', '"'), phrase=True)

    def _term(self, field: str | None, text: str) -> Term:
        if field in DATE_FIELDS:
            low = _date(text, False)
            high = _date(text, True)
            return Range(field, low, high, True, True)  # type: ignore[return-value]
        if text.startswith(("*", "?")):
            raise QueryError(f"{text!r}: a wildcard may not start a term (it would read the "
                             "whole index); put letters before it, e.g. gfp*")
        return Term(field, text)

    def _range(self, field: str, opening: str) -> Range:
        if field not in DATE_FIELDS:
            raise QueryError(f"ranges are for dates ({', '.join(DATE_FIELDS)}), not {field}")
        parts = []
        while (token := self.peek()) is not None and token not in ("]", "}"):
            parts.append(self.take())
        if self.peek() is None:
            raise QueryError("a range without its closing bracket; write "
                             "created:[2026-01-01 TO 2026-12-31]")
        closing = self.take()
        if len(parts) != 3 or parts[1] != "TO":
            raise QueryError("write a range as field:[FROM TO TO] (dates, or * for open)")
        low, high = _date(parts[0], False), _date(parts[2], True)
        if low is not None and high is not None and low > high:
            raise QueryError(f"the range starts after it ends ({parts[0]} > {parts[2]})")
        return Range(field, low, high, opening == "[", closing == "]")


def _with_field(group: Group, field: str) -> Group:
    def rename(node: Any) -> Any:
        if isinstance(node, Term) and node.field is None:
            return Term(field, node.text, node.phrase)
        if isinstance(node, Group):
            return Group(tuple(Clause(c.occur, rename(c.node)) for c in node.clauses))
        return node

    renamed: Group = rename(group)
    return renamed


def parse(text: str, kv_fields: set[str] | None = None) -> Group:
    """The query's structure; QueryError (a 400) for anything that cannot be searched."""
    if not text.strip():
        raise QueryError("an empty query; give at least one term")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"a query of {len(text)} characters; at most {MAX_LENGTH}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise QueryError("the query holds control characters; remove them")
    if text.strip() in ("*", "?", "*:*"):
        raise QueryError("a lone wildcard matches everything; give a term (or filter by "
                         "type, owner or group)")
    if text.count('"') % 2:
        raise QueryError("a quote without its closing quote; close the phrase with \"")
    return _Parser(text, kv_fields or set()).group()


# Compiling to tantivy ---------------------------------------------------------------
def _regex(pattern: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                   for ch in pattern.lower())


def compile_query(group: Group, schema: Any, default_field: str = DEFAULT_FIELD) -> Any:
    """The tantivy query; ``default_field`` is what bare terms search (``content`` for
    the snippets of attachments' text)."""
    import tantivy

    occurs = {"must": tantivy.Occur.Must, "should": tantivy.Occur.Should,
              "not": tantivy.Occur.MustNot}

    def term(node: Term) -> Any:
        field = node.field or default_field
        if field == "kind":
            return tantivy.Query.term_query(schema, "kind", node.text.lower().rstrip("s"))
        if field in RAW_FIELDS:
            return tantivy.Query.term_query(schema, field, node.text.lower()
                                            if field == "hash" else node.text)
        if not node.phrase and ("*" in node.text or "?" in node.text):
            pieces = [p for p in re.split(r"[^\w*?]+|_", node.text) if p]
            if len(pieces) != 1:
                raise QueryError(f"{node.text!r}: a wildcard term is one word")
            return tantivy.Query.regex_query(schema, field, _regex(pieces[0]))
        found = words(node.text)
        if not found:
            raise QueryError(f"{node.text!r} has no letters or digits to search for")
        if len(found) == 1:
            return tantivy.Query.term_query(schema, field, found[0])
        return tantivy.Query.phrase_query(schema, field, list[str | tuple[int, str]](found))

    def rng(node: Range) -> Any:
        low, high = node.low, node.high
        if (low is not None and low > LATEST) or (high is not None and high < EARLIEST):
            return tantivy.Query.empty_query()  # wholly outside the dates the index holds
        low = None if low is not None and low < EARLIEST else low
        high = None if high is not None and high > LATEST else high
        if low is None and high is None:  # Lucene's [* TO *]: has the field
            return tantivy.Query.exists_query(node.field)
        return tantivy.Query.range_query(schema, node.field, tantivy.FieldType.Date,
                                         low, high,
                                         include_lower=node.include_low or low is None,
                                         include_upper=node.include_high or high is None)

    def visit(node: Any) -> Any:
        if isinstance(node, Term):
            return term(node)
        if isinstance(node, Range):
            return rng(node)
        clauses = [(occurs[c.occur], visit(c.node)) for c in node.clauses]
        if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    return visit(group)
