//! The filter expression language shared by `render` and the window: `service=api* and not zone=zoneC`.
//!
//! ```text
//! expr  := or        or := and ("or" and)*        and := unary ("and" unary)*
//! unary := "not" unary | "(" expr ")" | field op value
//! field := service | region | zone | package | name | errors | calls | p50 | p99 | mean
//!        | change | calls_delta | errors_delta | p50_ratio | p99_ratio
//! op    := = | != | > | >= | < | <=
//! ```
//! Text fields compare case-insensitively with `*` as a wildcard; numbers may carry a unit for
//! latencies (`us`, `µs`, `ms`, `s`; bare numbers are milliseconds). Words are case-insensitive.
//!
//! While the window compares with a baseline, `change` is `added`, `removed`, `changed` or
//! `same`; `calls_delta` and `errors_delta` are after minus before (a side without the node
//! counts 0); `p50_ratio` and `p99_ratio` are after over before, where both have latency. Without
//! a comparison these fields match nothing.

use std::fmt;

/// A parse error, with the byte position of the mistake in the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad filter at column {column}: {message}")]
pub struct FilterError {
    /// 1-based column of the mistake.
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

/// A field a filter can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Service name.
    Service,
    /// Region.
    Region,
    /// Zone.
    Zone,
    /// Spigo package / kind.
    Package,
    /// The node's name at the graph's level.
    Name,
    /// Failed calls into and out of the node.
    Errors,
    /// Calls into and out of the node.
    Calls,
    /// Median latency of calls into the node.
    P50,
    /// 99th-percentile latency of calls into the node.
    P99,
    /// Mean latency of calls into the node.
    Mean,
    /// What happened to the node since the baseline.
    Change,
    /// Calls after minus calls before.
    CallsDelta,
    /// Failed calls after minus before.
    ErrorsDelta,
    /// Median latency after over before.
    P50Ratio,
    /// 99th-percentile latency after over before.
    P99Ratio,
}

impl Field {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "service" => Self::Service,
            "region" => Self::Region,
            "zone" => Self::Zone,
            "package" | "kind" => Self::Package,
            "name" | "node" | "instance" => Self::Name,
            "errors" => Self::Errors,
            "calls" => Self::Calls,
            "p50" => Self::P50,
            "p99" => Self::P99,
            "mean" => Self::Mean,
            "change" => Self::Change,
            "calls_delta" => Self::CallsDelta,
            "errors_delta" => Self::ErrorsDelta,
            "p50_ratio" => Self::P50Ratio,
            "p99_ratio" => Self::P99Ratio,
            _ => return None,
        })
    }

    fn numeric(self) -> bool {
        !matches!(
            self,
            Self::Service | Self::Region | Self::Zone | Self::Package | Self::Name | Self::Change
        )
    }

    fn latency(self) -> bool {
        matches!(self, Self::P50 | Self::P99 | Self::Mean)
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Filter {
    /// Matches everything (the empty expression).
    #[default]
    All,
    /// A text comparison with a lower-cased glob.
    Text(Field, Op, String),
    /// A numeric comparison (latencies in microseconds).
    Number(Field, Op, f64),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
}

/// What a filter sees of a node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeFacts<'a> {
    /// Name at the graph's level.
    pub name: &'a str,
    /// Service, if the node has one.
    pub service: Option<&'a str>,
    /// Region.
    pub region: Option<&'a str>,
    /// Zone.
    pub zone: Option<&'a str>,
    /// Package.
    pub package: Option<&'a str>,
    /// Calls in and out.
    pub calls: u64,
    /// Errors in and out.
    pub errors: u64,
    /// Median latency of calls in, µs.
    pub p50_micros: Option<u64>,
    /// 99th percentile latency of calls in, µs.
    pub p99_micros: Option<u64>,
    /// Mean latency of calls in, µs.
    pub mean_micros: Option<u64>,
    /// What happened to the node since the baseline, while comparing.
    pub change: Option<&'a crate::derive::diff::Item>,
}

impl Filter {
    /// Parses an expression; the empty expression matches everything.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return Ok(Self::All);
        }
        let mut p = Parser {
            tokens: &tokens,
            at: 0,
            end: text.len(),
            depth: 0,
            terms: 0,
        };
        let f = p.or()?;
        if let Some(t) = p.tokens.get(p.at) {
            return Err(err(t.pos, format!("unexpected {}", t.kind)));
        }
        Ok(f)
    }

    /// True when the node passes.
    pub fn matches(&self, node: &NodeFacts<'_>) -> bool {
        match self {
            Self::All => true,
            Self::And(a, b) => a.matches(node) && b.matches(node),
            Self::Or(a, b) => a.matches(node) || b.matches(node),
            Self::Not(a) => !a.matches(node),
            Self::Text(field, op, pattern) => {
                let value = match field {
                    Field::Service => node.service,
                    Field::Region => node.region,
                    Field::Zone => node.zone,
                    Field::Package => node.package,
                    Field::Change => node.change.map(|c| c.change.as_str()),
                    _ => Some(node.name),
                };
                let hit = value.is_some_and(|v| glob(pattern, &v.to_lowercase()));
                if *op == Op::Ne { !hit } else { hit }
            }
            Self::Number(field, op, want) => {
                let value = match field {
                    Field::Errors => Some(node.errors as f64),
                    Field::Calls => Some(node.calls as f64),
                    Field::P50 => node.p50_micros.map(|v| v as f64),
                    Field::P99 => node.p99_micros.map(|v| v as f64),
                    Field::CallsDelta | Field::ErrorsDelta | Field::P50Ratio | Field::P99Ratio => {
                        node.change.and_then(|c| delta(*field, c))
                    }
                    _ => node.mean_micros.map(|v| v as f64),
                };
                value.is_some_and(|v| match op {
                    Op::Eq => (v - want).abs() < f64::EPSILON,
                    Op::Ne => (v - want).abs() >= f64::EPSILON,
                    Op::Gt => v > *want,
                    Op::Ge => v >= *want,
                    Op::Lt => v < *want,
                    Op::Le => v <= *want,
                })
            }
        }
    }
}

/// A change field's value for a node compared with its baseline.
fn delta(field: Field, item: &crate::derive::diff::Item) -> Option<f64> {
    let side = |f: Option<crate::derive::diff::Figures>| f.unwrap_or_default();
    let (before, after) = (side(item.before), side(item.after));
    let ratio = |b: Option<u64>, a: Option<u64>| match (b, a) {
        (Some(b), Some(a)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    match field {
        Field::CallsDelta => Some(after.calls as f64 - before.calls as f64),
        Field::ErrorsDelta => Some(after.errors as f64 - before.errors as f64),
        Field::P50Ratio => ratio(before.p50_micros, after.p50_micros),
        Field::P99Ratio => ratio(before.p99_micros, after.p99_micros),
        _ => None,
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        })
    }
}

/// Glob match with `*` (any run of characters); both sides already lower-cased.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = rest.get(i + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn err(pos: usize, message: String) -> FilterError {
    FilterError {
        column: pos + 1,
        message,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Word(String),
    Op(Op),
    Open,
    Close,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Word(w) => write!(f, "'{w}'"),
            Self::Op(o) => write!(f, "'{o}'"),
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    pos: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => Kind::Open,
            ')' => Kind::Close,
            '=' => Kind::Op(Op::Eq),
            '!' => match chars.next_if(|(_, c)| *c == '=') {
                Some(_) => Kind::Op(Op::Ne),
                None => {
                    return Err(err(
                        pos,
                        "'!' must be followed by '=' (use 'not' to negate)".to_owned(),
                    ));
                }
            },
            '>' | '<' => {
                let eq = chars.next_if(|(_, c)| *c == '=').is_some();
                Kind::Op(match (c, eq) {
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('<', false) => Op::Lt,
                    _ => Op::Le,
                })
            }
            '"' | '\'' => {
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => break,
                        Some((_, ch)) => word.push(ch),
                        None => return Err(err(pos, "unterminated quote".to_owned())),
                    }
                }
                Kind::Word(word)
            }
            _ => {
                let mut word = String::from(c);
                while let Some((_, ch)) =
                    chars.next_if(|(_, ch)| !ch.is_whitespace() && !"()=!<>\"'".contains(*ch))
                {
                    word.push(ch);
                }
                Kind::Word(word)
            }
        };
        out.push(Token { kind, pos });
    }
    Ok(out)
}

/// Deepest nesting of `(` and `not` an expression may have.
pub const MAX_NESTING: usize = 64;
/// Most comparisons one expression may hold (trees are walked recursively).
pub const MAX_TERMS: usize = 256;

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    end: usize,
    /// Open `(` and `not` around the current position.
    depth: usize,
    /// `and`/`or` operands read so far.
    terms: usize,
}

impl Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn here(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.pos)
    }

    /// Counts one more operand, refusing past [`MAX_TERMS`].
    fn term(&mut self) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(err(
                self.here(),
                format!("an expression may combine at most {MAX_TERMS} comparisons"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            self.term()?;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.at += 1;
            self.term()?;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(err(
                self.here(),
                format!("brackets and 'not' may nest at most {MAX_NESTING} deep"),
            ));
        }
        let f = self.unary_inner();
        self.depth -= 1;
        f
    }

    fn unary_inner(&mut self) -> Result<Filter, FilterError> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token {
                kind: Kind::Open,
                pos,
            }) => {
                self.at += 1;
                let inner = self.or()?;
                match self.tokens.get(self.at) {
                    Some(Token {
                        kind: Kind::Close, ..
                    }) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(err(pos, "this '(' is never closed".to_owned())),
                }
            }
            Some(Token {
                kind: Kind::Word(word),
                pos,
            }) => {
                self.at += 1;
                let Some(field) = Field::parse(&word) else {
                    return Err(err(
                        pos,
                        format!(
                            "unknown field '{word}' (try service, region, zone, package, name, errors, calls, p50, p99, mean; comparing: change, calls_delta, errors_delta, p50_ratio, p99_ratio)"
                        ),
                    ));
                };
                let op = match self.tokens.get(self.at) {
                    Some(Token {
                        kind: Kind::Op(op), ..
                    }) => *op,
                    _ => {
                        return Err(err(
                            self.here(),
                            format!("expected =, !=, >, >=, < or <= after '{word}'"),
                        ));
                    }
                };
                self.at += 1;
                let (value, vpos) = match self.tokens.get(self.at) {
                    Some(Token {
                        kind: Kind::Word(v),
                        pos,
                    }) => (v.clone(), *pos),
                    _ => return Err(err(self.here(), format!("expected a value after '{op}'"))),
                };
                self.at += 1;
                if field.numeric() {
                    let number = parse_number(&value, field.latency()).ok_or_else(|| {
                        err(
                            vpos,
                            format!(
                                "'{value}' is not a number{}",
                                if field.latency() { " (e.g. 250ms)" } else { "" }
                            ),
                        )
                    })?;
                    Ok(Filter::Number(field, op, number))
                } else if matches!(op, Op::Eq | Op::Ne) {
                    Ok(Filter::Text(field, op, value.to_lowercase()))
                } else {
                    Err(err(
                        vpos - 1,
                        format!("'{op}' compares numbers; use = or != for {word}"),
                    ))
                }
            }
            Some(t) => Err(err(t.pos, format!("unexpected {}", t.kind))),
            None => Err(err(self.end, "the expression ends too early".to_owned())),
        }
    }
}

/// A number, with a latency unit converted to microseconds (bare numbers are milliseconds).
fn parse_number(text: &str, latency: bool) -> Option<f64> {
    let lower = text.to_lowercase();
    let (digits, scale) = if !latency {
        (lower.as_str(), 1.0)
    } else if let Some(d) = lower
        .strip_suffix("us")
        .or_else(|| lower.strip_suffix("µs"))
    {
        (d, 1.0)
    } else if let Some(d) = lower.strip_suffix("ms") {
        (d, 1e3)
    } else if let Some(d) = lower.strip_suffix('s') {
        (d, 1e6)
    } else {
        (lower.as_str(), 1e3)
    };
    let v: f64 = digits.parse().ok()?;
    v.is_finite().then_some(v * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(service: &'a str, zone: &'a str, errors: u64, p99_ms: u64) -> NodeFacts<'a> {
        NodeFacts {
            name: service,
            service: Some(service),
            region: Some("us-east-1"),
            zone: Some(zone),
            package: Some("staash"),
            calls: 100,
            errors,
            p99_micros: Some(p99_ms * 1000),
            ..NodeFacts::default()
        }
    }

    #[test]
    fn the_examples_parse_and_match() {
        let api = node("apiProxy", "zoneA", 0, 300);
        let db = node("cassSubscriber", "zoneC", 3, 10);
        let cases = [
            ("service=api*", true, false),
            ("region=us-east-1", true, true),
            ("zone!=zoneC", true, false),
            ("package=staash", true, true),
            ("errors>0", false, true),
            ("calls>=100", true, true),
            ("p99>250ms", true, false),
            ("p99 > 0.25s", true, false),
            ("not (service=api* or errors>0)", false, false),
            ("zone=zonea and calls<101", true, false),
            ("SERVICE = '*subscr*'", false, true),
            ("", true, true),
        ];
        for (text, a, b) in cases {
            let f = Filter::parse(text).unwrap();
            assert_eq!((f.matches(&api), f.matches(&db)), (a, b), "{text}");
        }
    }

    #[test]
    fn mistakes_name_their_column() {
        let cases = [
            ("servce=api", 1, "unknown field 'servce'"),
            ("errors>", 8, "expected a value after '>'"),
            ("zone zoneA", 6, "expected =, !="),
            ("(zone=a", 1, "never closed"),
            ("p99>fast", 5, "'fast' is not a number"),
            ("zone=a and", 11, "ends too early"),
            ("zone=a b", 8, "unexpected 'b'"),
            ("service!api", 8, "'!' must be followed"),
        ];
        for (text, column, message) in cases {
            let e = Filter::parse(text).unwrap_err();
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
        }
        assert_eq!(
            Filter::parse("errors>").unwrap_err().to_string(),
            "bad filter at column 8: expected a value after '>'"
        );
    }

    #[test]
    fn deep_or_long_expressions_are_refused_not_overflowed() {
        let deep = format!("{}errors > 1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(Filter::parse(&deep).unwrap_err().message.contains("nest"));
        let nots = format!("{}errors > 1", "not ".repeat(100_000));
        assert!(Filter::parse(&nots).is_err());
        let long = vec!["errors > 1"; 10_000].join(" and ");
        assert!(
            Filter::parse(&long)
                .unwrap_err()
                .message
                .contains("at most")
        );
        let fine = format!("{}errors > 1{}", "(".repeat(30), ")".repeat(30));
        assert!(Filter::parse(&fine).is_ok());
    }

    #[test]
    fn change_fields_read_the_comparison() {
        use crate::derive::diff::{Change, Figures, Item};
        let figures = |calls, errors, p99| Figures {
            calls,
            errors,
            p50_micros: Some(1_000),
            p99_micros: Some(p99),
        };
        let item = Item {
            name: "api".to_owned(),
            child: None,
            change: Change::Changed,
            before: Some(figures(100, 1, 10_000)),
            after: Some(figures(40, 5, 30_000)),
        };
        let compared = NodeFacts {
            change: Some(&item),
            ..node("api", "zoneA", 5, 30)
        };
        let yes = |f: &str| Filter::parse(f).unwrap().matches(&compared);
        assert!(yes("change=changed") && yes("change != same") && !yes("change=added"));
        assert!(yes("calls_delta < -50") && !yes("calls_delta > 0"));
        assert!(yes("errors_delta = 4"));
        // A ratio is a bare number, not milliseconds.
        assert!(yes("p99_ratio >= 3") && !yes("p99_ratio > 3") && yes("p50_ratio = 1"));
        let removed = Item {
            change: Change::Removed,
            after: None,
            ..item.clone()
        };
        let gone = NodeFacts {
            change: Some(&removed),
            ..node("api", "zoneA", 0, 0)
        };
        let f = Filter::parse("change=removed and calls_delta = -100").unwrap();
        assert!(f.matches(&gone));
        assert!(!Filter::parse("p99_ratio > 0").unwrap().matches(&gone));
        // Without a comparison the change fields match nothing.
        let plain = node("api", "zoneA", 5, 30);
        assert!(!Filter::parse("change=same").unwrap().matches(&plain));
        assert!(
            Filter::parse("not calls_delta > 0")
                .unwrap()
                .matches(&plain)
        );
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abbc"));
        assert!(glob("*", ""));
        assert!(glob("a*", "a"));
        assert!(!glob("a*c", "ab"));
        assert!(glob("*b*", "abc"));
        assert!(!glob("abc", "abcd"));
    }
}
