//! Small text files that say which snapshot and log segments hold a core's
//! data, and how many cores wrote them. Each ends with a CRC line so a
//! damaged manifest is refused rather than misread.

use crate::codec::FormatError;

/// `<dir>/LAYOUT`: the layout epoch (the prefix of every data file name)
/// and how many cores wrote those files.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub epoch: u64,
    pub cores: u32,
}

/// `<dir>/core-<i>.manifest`: the snapshot to load (if any), then the log
/// segments to replay in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoreManifest {
    pub snapshot: Option<String>,
    pub logs: Vec<String>,
    /// Unix seconds of the last successful snapshot (LASTSAVE).
    pub last_save: u64,
    pub generation: u64,
}

fn seal(body: String) -> String {
    let crc = crc32fast::hash(body.as_bytes());
    format!("{body}crc {crc:08x}\n")
}

fn unseal(text: &str) -> Result<&str, FormatError> {
    let cut = text.trim_end_matches('\n').rfind('\n').map(|i| i + 1).unwrap_or(0);
    let (body, last) = text.split_at(cut);
    let crc = last.trim().strip_prefix("crc ").and_then(|h| u32::from_str_radix(h, 16).ok()).ok_or(FormatError::BadHeader)?;
    if crc32fast::hash(body.as_bytes()) != crc {
        return Err(FormatError::Checksum(0));
    }
    Ok(body)
}

/// Checks that a file name is one of ours (no paths sneak in).
fn safe_name(n: &str) -> Result<String, FormatError> {
    if n.is_empty() || n.contains('/') || n.starts_with('.') {
        return Err(FormatError::Malformed(0, format!("bad file name {n:?}")));
    }
    Ok(n.to_string())
}

impl Layout {
    pub fn encode(&self) -> String {
        seal(format!("redcore-layout 1\nepoch {}\ncores {}\n", self.epoch, self.cores))
    }

    pub fn decode(text: &str) -> Result<Layout, FormatError> {
        let body = unseal(text)?;
        let mut lines = body.lines();
        if lines.next() != Some("redcore-layout 1") {
            return Err(FormatError::BadHeader);
        }
        let epoch = lines
            .next()
            .and_then(|l| l.strip_prefix("epoch "))
            .and_then(|n| n.parse().ok())
            .ok_or(FormatError::Malformed(0, "epoch".into()))?;
        let cores = lines
            .next()
            .and_then(|l| l.strip_prefix("cores "))
            .and_then(|n| n.parse().ok())
            .filter(|&n: &u32| n > 0)
            .ok_or(FormatError::Malformed(0, "cores".into()))?;
        Ok(Layout { epoch, cores })
    }
}

impl CoreManifest {
    pub fn encode(&self) -> String {
        let mut s = format!("redcore-manifest 1\ngeneration {}\nlast-save {}\n", self.generation, self.last_save);
        if let Some(snap) = &self.snapshot {
            s.push_str(&format!("snapshot {snap}\n"));
        }
        for l in &self.logs {
            s.push_str(&format!("log {l}\n"));
        }
        seal(s)
    }

    pub fn decode(text: &str) -> Result<CoreManifest, FormatError> {
        let body = unseal(text)?;
        let mut lines = body.lines();
        if lines.next() != Some("redcore-manifest 1") {
            return Err(FormatError::BadHeader);
        }
        let mut m = CoreManifest::default();
        for line in lines {
            let (k, v) = line.split_once(' ').ok_or(FormatError::Malformed(0, line.into()))?;
            match k {
                "generation" => m.generation = v.parse().map_err(|_| FormatError::Malformed(0, line.into()))?,
                "last-save" => m.last_save = v.parse().map_err(|_| FormatError::Malformed(0, line.into()))?,
                "snapshot" => m.snapshot = Some(safe_name(v)?),
                "log" => m.logs.push(safe_name(v)?),
                _ => return Err(FormatError::Malformed(0, line.into())),
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_damage() {
        let m = CoreManifest { snapshot: Some("core-0-3.snap".into()), logs: vec!["core-0-3.aof".into(), "core-0-4.aof".into()], last_save: 5, generation: 4 };
        let text = m.encode();
        assert_eq!(CoreManifest::decode(&text).unwrap(), m);
        let bad = text.replace("core-0-3.aof", "core-0-9.aof");
        assert!(CoreManifest::decode(&bad).is_err());
        let l = Layout { epoch: 2, cores: 3 };
        assert_eq!(Layout::decode(&l.encode()).unwrap(), l);
        assert!(Layout::decode("redcore-layout 1\nepoch 2\ncores 3\n").is_err());
    }
}
