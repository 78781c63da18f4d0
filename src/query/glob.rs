//! Shell-style globs over whole strings, for package names and field
//! values: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.

#[derive(Debug, Clone, PartialEq)]
enum GlobTok {
    Lit(char),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl GlobTok {
    fn accepts(&self, c: char) -> bool {
        match self {
            GlobTok::Lit(l) => *l == c,
            GlobTok::Any => true,
            GlobTok::Star => false,
            GlobTok::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// A shell-style glob over a whole string: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    pub(crate) text: String,
    toks: Vec<GlobTok>,
    literal: bool,
}

impl Glob {
    /// Compile `text`; on error returns the character offset and a message.
    pub fn new(text: &str) -> Result<Glob, (usize, String)> {
        let chars: Vec<char> = text.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if toks.last() != Some(&GlobTok::Star) {
                        toks.push(GlobTok::Star);
                    }
                    i += 1;
                }
                '?' => {
                    toks.push(GlobTok::Any);
                    i += 1;
                }
                '[' => {
                    let open = i;
                    i += 1;
                    let negated = chars.get(i) == Some(&'!');
                    if negated {
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(&c) = chars.get(i) else {
                            return Err((open, format!("unclosed `[` in glob `{text}`")));
                        };
                        if c == ']' && !first {
                            i += 1;
                            break;
                        }
                        first = false;
                        if chars.get(i + 1) == Some(&'-')
                            && let Some(&hi) = chars.get(i + 2)
                            && hi != ']'
                        {
                            if hi < c {
                                return Err((
                                    i,
                                    format!("invalid range `{c}-{hi}` in glob `{text}`"),
                                ));
                            }
                            ranges.push((c, hi));
                            i += 3;
                        } else {
                            ranges.push((c, c));
                            i += 1;
                        }
                    }
                    toks.push(GlobTok::Class { negated, ranges });
                }
                c => {
                    toks.push(GlobTok::Lit(c));
                    i += 1;
                }
            }
        }
        let literal = toks.iter().all(|t| matches!(t, GlobTok::Lit(_)));
        Ok(Glob {
            text: text.to_string(),
            toks,
            literal,
        })
    }

    /// The text, if the glob has no wildcards.
    pub(crate) fn literal(&self) -> Option<&str> {
        self.literal.then_some(self.text.as_str())
    }

    /// Whether the glob matches all of `s`.
    pub fn matches(&self, s: &str) -> bool {
        if self.literal {
            return self.text == s;
        }
        let toks = &self.toks;
        let (mut t, mut si) = (0usize, 0usize);
        // Token index after the last `*`, and the input position it resumes from.
        let mut star: Option<(usize, usize)> = None;
        loop {
            if let Some(tok) = toks.get(t) {
                if *tok == GlobTok::Star {
                    star = Some((t + 1, si));
                    t += 1;
                    continue;
                }
                if let Some(c) = s[si..].chars().next()
                    && tok.accepts(c)
                {
                    si += c.len_utf8();
                    t += 1;
                    continue;
                }
            } else if si == s.len() {
                return true;
            }
            // Mismatch: let the last `*` swallow one more character.
            let Some((st, ss)) = star else {
                return false;
            };
            let Some(c) = s[ss..].chars().next() else {
                return false;
            };
            let resume = ss + c.len_utf8();
            star = Some((st, resume));
            t = st;
            si = resume;
        }
    }
}
