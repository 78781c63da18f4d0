//! The filter language's recursive-descent parser (grammar in the parent
//! module's docs).

use super::{
    FieldAtom, FieldCond, FilterError, Glob, Node, Op, PackageAtom, VersionArg, is_version_field,
    location,
};
use crate::debian::version::Version;

/// Parses all of `s` into a tree: an expression, then nothing but space.
pub(super) fn whole(s: &str) -> Result<Node, FilterError> {
    let mut parser = Parser {
        depth: 0,
        src: s,
        chars: s.chars().collect(),
        pos: 0,
    };
    let root = parser.expr()?;
    parser.skip_ws();
    if let Some(c) = parser.peek() {
        return Err(parser.error(
            parser.pos,
            format!("unexpected `{c}`, expected `,`, `|` or the end of the filter"),
        ));
    }
    Ok(root)
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// `(` and `!` currently open: bounded, so a hostile filter cannot
    /// exhaust the stack of this recursive parser (found by fuzzing).
    depth: usize,
}

/// Nesting of `(` and `!` a filter may have.
pub(super) const MAX_DEPTH: usize = 64;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_' | '*' | '?' | '[')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

impl Parser<'_> {
    /// 1-based line and column of a character position.
    fn line_col(&self, pos: usize) -> (usize, usize) {
        let mut line = 1;
        let mut column = 1;
        for &c in self.chars.iter().take(pos) {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        (line, column)
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> FilterError {
        let (line, column) = self.line_col(pos);
        FilterError::Syntax {
            filter: self.src.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn slice(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }

    fn expr(&mut self) -> Result<Node, FilterError> {
        let mut items = vec![self.and()?];
        loop {
            self.skip_ws();
            if self.peek() != Some('|') {
                break;
            }
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(Node::or(items))
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        let mut items = vec![self.unary()?];
        loop {
            self.skip_ws();
            if self.peek() != Some(',') {
                break;
            }
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(Node::and(items))
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        self.skip_ws();
        if matches!(self.peek(), Some('!' | '(')) {
            if self.depth == MAX_DEPTH {
                return Err(
                    self.error(self.pos, format!("more than {MAX_DEPTH} nested `(` or `!`"))
                );
            }
            self.depth += 1;
            let node = self.nested();
            self.depth -= 1;
            return node;
        }
        self.atom()
    }

    /// `!unary` or `( expr )`.
    fn nested(&mut self) -> Result<Node, FilterError> {
        match self.peek() {
            Some('!') => {
                self.pos += 1;
                Ok(Node::Not(Box::new(self.unary()?)))
            }
            Some('(') => {
                let open = self.pos;
                self.pos += 1;
                let inner = self.expr()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    let (line, column) = self.line_col(open);
                    return Err(self.error(
                        self.pos,
                        format!(
                            "expected `)` to close the `(` at {}",
                            location(&line, &column)
                        ),
                    ));
                }
                self.pos += 1;
                Ok(inner)
            }
            _ => self.atom(),
        }
    }

    /// A package or field atom.
    fn atom(&mut self) -> Result<Node, FilterError> {
        match self.peek() {
            Some(c) if c.is_ascii_uppercase() || c == '$' => self.field_atom(),
            Some(c) if is_name_char(c) => self.package_atom(),
            Some(c) => Err(self.error(
                self.pos,
                format!("unexpected `{c}`, expected a package name, a field or `(`"),
            )),
            None => Err(self.error(
                self.pos,
                "expected a package name, a field or `(` at the end of the filter",
            )),
        }
    }

    fn package_atom(&mut self) -> Result<Node, FilterError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '[' {
                self.pos = self.class_end(self.pos)?;
            } else if is_name_char(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = self.slice(start, self.pos);
        let name = Glob::new(&text).map_err(|(off, msg)| self.error(start + off, msg))?;

        self.skip_ws();
        let constraint = if self.peek() == Some('(') {
            Some(self.constraint(&text)?)
        } else {
            None
        };
        self.skip_ws();
        let archs = if self.peek() == Some('{') {
            self.archs()?
        } else {
            Vec::new()
        };
        if text == "*" && constraint.is_none() && archs.is_empty() {
            return Ok(Node::All);
        }
        Ok(Node::Package(PackageAtom {
            name,
            constraint,
            archs,
        }))
    }

    /// Position just past the `]` closing the glob class opened at `open`.
    fn class_end(&self, open: usize) -> Result<usize, FilterError> {
        let mut i = open + 1;
        if self.chars.get(i) == Some(&'!') {
            i += 1;
        }
        if self.chars.get(i) == Some(&']') {
            i += 1;
        }
        while let Some(&c) = self.chars.get(i) {
            if c == ']' {
                return Ok(i + 1);
            }
            i += 1;
        }
        Err(self.error(open, "unclosed `[` in glob"))
    }

    fn op(&mut self) -> Option<Op> {
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('<'), Some('<')) => (Op::Lt, 2),
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('<'), _) => (Op::Le, 1),
            (Some('>'), Some('>')) => (Op::Gt, 2),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('>'), _) => (Op::Ge, 1),
            (Some('='), _) => (Op::Eq, 1),
            _ => return None,
        };
        self.pos += op.1;
        Some(op.0)
    }

    fn op_text(&self, from: usize) -> String {
        self.slice(from, self.pos)
    }

    fn version_arg(&self, text: String, at: usize) -> Result<VersionArg, FilterError> {
        match Version::parse(&text) {
            Ok(version) => Ok(VersionArg { text, version }),
            Err(source) => {
                let (line, column) = self.line_col(at);
                Err(FilterError::Version {
                    filter: self.src.to_string(),
                    line,
                    column,
                    version: text,
                    source,
                })
            }
        }
    }

    fn constraint(&mut self, name: &str) -> Result<(Op, VersionArg), FilterError> {
        self.pos += 1; // '('
        self.skip_ws();
        let op_at = self.pos;
        let Some(op) = self.op() else {
            return Err(self.error(
                self.pos,
                format!(
                    "expected a version operator (`<<`, `<=`, `=`, `>=`, `>>`) \
                     in the constraint on `{name}`"
                ),
            ));
        };
        let op_text = self.op_text(op_at);
        self.skip_ws();
        let v_at = self.pos;
        while self.peek().is_some_and(|c| !c.is_whitespace() && c != ')') {
            self.pos += 1;
        }
        if self.pos == v_at {
            return Err(self.error(op_at, format!("expected a version after `{op_text}`")));
        }
        let version = self.version_arg(self.slice(v_at, self.pos), v_at)?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.error(
                self.pos,
                format!("expected `)` after version `{}`", version.text),
            ));
        }
        self.pos += 1;
        Ok((op, version))
    }

    fn archs(&mut self) -> Result<Vec<String>, FilterError> {
        self.pos += 1; // '{'
        let mut archs = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            while self.peek().is_some_and(is_ident_char) {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(self.error(self.pos, "expected an architecture name"));
            }
            let arch = self.slice(start, self.pos);
            if !archs.contains(&arch) {
                archs.push(arch);
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(archs);
                }
                _ => {
                    return Err(
                        self.error(self.pos, "expected `,` or `}` in the architecture list")
                    );
                }
            }
        }
    }

    fn field_atom(&mut self) -> Result<Node, FilterError> {
        let start = self.pos;
        if self.peek() == Some('$') {
            self.pos += 1;
        }
        let ident_start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        if self.pos == ident_start {
            return Err(self.error(start, "expected a field name after `$`"));
        }
        let raw = self.slice(start, self.pos);
        let mut field = self.slice(ident_start, self.pos);
        if field.eq_ignore_ascii_case("Name") {
            field = "Package".to_string();
        }
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error(
                self.pos,
                format!("expected `(` after field `{raw}` (package names are lowercase)"),
            ));
        }
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();

        let cond = if self.peek() == Some('%') {
            self.pos += 1;
            let (value, at) = self.value(&raw, open)?;
            FieldCond::Glob(Glob::new(&value).map_err(|(_, msg)| self.error(at, msg))?)
        } else if let Some(c) = self.peek()
            && matches!(c, '<' | '>' | '=')
        {
            let op_at = self.pos;
            let op = self.op().unwrap_or(Op::Eq);
            let op_text = self.op_text(op_at);
            let (value, at) = self.value(&raw, open)?;
            if op == Op::Eq && !is_version_field(&field) {
                FieldCond::Exact(value)
            } else if value.is_empty() {
                return Err(self.error(op_at, format!("expected a version after `{op_text}`")));
            } else {
                FieldCond::Version(op, self.version_arg(value, at)?)
            }
        } else {
            let (value, at) = self.value(&raw, open)?;
            if value.is_empty() {
                return Err(self.error(at, format!("expected a value for field `{raw}`")));
            }
            FieldCond::Exact(value)
        };
        Ok(Node::Field(FieldAtom { field, cond }))
    }

    /// Read a field value up to and including the `)` closing the field
    /// condition opened at `open`. Returns the trimmed value and where it
    /// starts.
    fn value(&mut self, field: &str, open: usize) -> Result<(String, usize), FilterError> {
        self.skip_ws();
        let at = self.pos;
        if self.peek() == Some('"') {
            self.pos += 1;
            let mut out = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error(at, "unterminated quoted value")),
                    Some('"') => {
                        self.pos += 1;
                        break;
                    }
                    Some('\\') if self.peek_at(1).is_some() => {
                        out.push(self.chars[self.pos + 1]);
                        self.pos += 2;
                    }
                    Some(c) => {
                        out.push(c);
                        self.pos += 1;
                    }
                }
            }
            self.skip_ws();
            if self.peek() != Some(')') {
                return Err(self.error(
                    self.pos,
                    format!("expected `)` after the quoted value for field `{field}`"),
                ));
            }
            self.pos += 1;
            return Ok((out, at));
        }
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    let value = self.slice(at, self.pos).trim().to_string();
                    self.pos += 1;
                    return Ok((value, at));
                }
                ')' => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.error(open, format!("expected `)` to close field `{field}`")))
    }
}
