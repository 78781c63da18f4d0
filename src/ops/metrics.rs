//! Prometheus text of per-object counters and gauges (`status --prometheus`).

use std::fmt::Write as _;

/// A metric family: name, type (`counter`, `gauge`) and help.
pub type Family = (&'static str, &'static str, &'static str);

/// Every family of `families`, one sample per object of `items`, labelled
/// `label="<label_of(item)>"` (escaped), valued `value(item, index of the
/// family)`.
pub fn families<T>(
    label: &str,
    items: &[T],
    label_of: fn(&T) -> &str,
    families: &[Family],
    value: impl Fn(&T, usize) -> u64,
) -> String {
    let mut s = String::new();
    for (i, (name, kind, help)) in families.iter().enumerate() {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for item in items {
            let v = label_of(item).replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(s, "{name}{{{label}=\"{v}\"}} {}", value(item, i));
        }
    }
    s
}
