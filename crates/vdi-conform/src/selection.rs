//! Which cases run: `--cases`/`--skip` patterns (globs or plain substrings) and
//! `--partition k/n` (a deterministic share of the selection, as `cargo nextest --partition`).

use crate::catalogue::Case;
use std::fmt;

/// Whether `id` matches a glob (`*` any run of characters, `?` one character).
pub fn glob_match(pattern: &str, id: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), id.as_bytes())
}

/// Whether `id` matches a `--cases`/`--skip` pattern: a glob when it has `*` or `?`, else a
/// plain substring (`devices-64`, `crash/`).
pub fn pattern_match(pattern: &str, id: &str) -> bool {
    if pattern.contains(['*', '?']) {
        glob_match(pattern, id)
    } else {
        id.contains(pattern)
    }
}

/// A pattern ready to match: a plain pattern that is a whole case ID matches that case only
/// (`stripe/backup/devices-1` is not also `…/devices-16`).
struct Matcher<'p> {
    pattern: &'p str,
    exact: bool,
}

impl<'p> Matcher<'p> {
    fn new(cases: &[Case], pattern: &'p str) -> Matcher<'p> {
        Matcher {
            pattern,
            exact: !pattern.contains(['*', '?']) && cases.iter().any(|c| c.id == pattern),
        }
    }

    fn matches(&self, id: &str) -> bool {
        if self.exact {
            id == self.pattern
        } else {
            pattern_match(self.pattern, id)
        }
    }
}

/// The cases selected by `--cases` (any matches; none given: all) minus `--skip`, in
/// catalogue order.
pub fn select<'a>(cases: &'a [Case], include: &[String], skip: &[String]) -> Vec<&'a Case> {
    let include: Vec<Matcher<'_>> = include.iter().map(|p| Matcher::new(cases, p)).collect();
    let skip: Vec<Matcher<'_>> = skip.iter().map(|p| Matcher::new(cases, p)).collect();
    cases
        .iter()
        .filter(|c| include.is_empty() || include.iter().any(|m| m.matches(&c.id)))
        .filter(|c| !skip.iter().any(|m| m.matches(&c.id)))
        .collect()
}

/// The patterns that match no case at all (a typo: a usage error).
pub fn unmatched<'p>(cases: &[Case], patterns: &'p [String]) -> Vec<&'p str> {
    patterns
        .iter()
        .filter(|p| !cases.iter().any(|c| pattern_match(p, &c.id)))
        .map(String::as_str)
        .collect()
}

/// How `--partition` shares the selection out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKind {
    /// Round robin over the selection in catalogue order: case i (from 0) goes to shard
    /// `i % n + 1`. Shards differ by at most one case.
    Count,
    /// By a hash of the case ID: a case stays in its shard when others are added or removed.
    Hash,
}

/// `--partition [count:|hash:]k/n`: shard k (from 1) of n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub kind: PartitionKind,
    pub shard: usize,
    pub total: usize,
}

impl Partition {
    /// Parses `k/n`, `count:k/n` or `hash:k/n` (1 ≤ k ≤ n).
    pub fn parse(text: &str) -> Result<Partition, String> {
        let (kind, rest) = match text.split_once(':') {
            None => (PartitionKind::Count, text),
            Some(("count", rest)) => (PartitionKind::Count, rest),
            Some(("hash", rest)) => (PartitionKind::Hash, rest),
            Some((other, _)) => {
                return Err(format!("unknown partition kind {other:?} (count or hash)"));
            }
        };
        let bad = || format!("{text:?} is not a partition k/n with 1 <= k <= n");
        let (k, n) = rest.split_once('/').ok_or_else(bad)?;
        let (shard, total) = (
            k.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if shard == 0 || shard > total {
            return Err(bad());
        }
        Ok(Partition { kind, shard, total })
    }

    /// Whether the case at `index` of the selection, with ID `id`, is in this shard.
    pub fn contains(&self, index: usize, id: &str) -> bool {
        let slot = match self.kind {
            PartitionKind::Count => index % self.total,
            PartitionKind::Hash => {
                let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
                (h % self.total as u64) as usize
            }
        };
        slot + 1 == self.shard
    }

    /// This shard's share of `selected`.
    pub fn apply<'a>(&self, selected: &[&'a Case]) -> Vec<&'a Case> {
        selected
            .iter()
            .enumerate()
            .filter(|(i, c)| self.contains(*i, &c.id))
            .map(|(_, c)| *c)
            .collect()
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Count => "count",
            PartitionKind::Hash => "hash",
        };
        write!(f, "{kind}:{}/{}", self.shard, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::catalogue;
    use std::collections::HashMap;

    #[test]
    fn globs() {
        assert!(glob_match(
            "flush/*",
            "flush/mid-1/complete-granted/devices-1"
        ));
        assert!(glob_match("*devices-4", "stripe/backup/devices-4"));
        assert!(!glob_match(
            "stripe/backup/devices-?",
            "stripe/backup/devices-16"
        ));
        assert!(glob_match(
            "stripe/backup/devices-??",
            "stripe/backup/devices-16"
        ));
    }

    #[test]
    fn plain_patterns_are_substrings() {
        assert!(pattern_match("devices-64", "stripe/backup/devices-64"));
        assert!(pattern_match("crash/", "crash/backup/opened/devices-1"));
        // Anywhere in the ID.
        assert!(pattern_match("crash/", "abort/crash/mid-stream/backup"));
        assert!(!pattern_match("stripe/backup/devices-6", "open/devices-64"));
        // A glob is anchored at both ends.
        assert!(!pattern_match("backup/*", "stripe/backup/devices-1"));
        let all = catalogue();
        assert_eq!(
            unmatched(&all, &["devices-64".into(), "no-such".into(), "x*".into()]),
            ["no-such", "x*"]
        );
        // A whole ID is that case only.
        let one = select(&all, &["stripe/backup/devices-1".into()], &[]);
        assert_eq!(one.len(), 1);
        assert_eq!(
            select(&all, &["stripe/backup/devices-".into()], &[]).len(),
            8
        );
        let chosen = select(&all, &["devices-64".into()], &["open".into()]);
        assert!(!chosen.is_empty());
        assert!(
            chosen
                .iter()
                .all(|c| c.id.contains("devices-64") && !c.id.contains("open"))
        );
    }

    #[test]
    fn partitions_cover_the_selection_once() {
        let all = catalogue();
        let selected: Vec<&Case> = all.iter().collect();
        for kind in ["count", "hash"] {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let mut sizes = Vec::new();
            for k in 1..=3 {
                let p = Partition::parse(&format!("{kind}:{k}/3")).unwrap();
                let shard = p.apply(&selected);
                sizes.push(shard.len());
                for c in shard {
                    *seen.entry(c.id.as_str()).or_default() += 1;
                }
            }
            assert_eq!(seen.len(), all.len(), "{kind}");
            assert!(seen.values().all(|&n| n == 1), "{kind}");
            if kind == "count" {
                assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            }
        }
        assert_eq!(Partition::parse("2/5").unwrap().to_string(), "count:2/5");
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "slice:1/2"] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
    }
}
