//! The file exchange: CMP messages as files in a shared directory, for
//! offline and store-and-forward enrollment (a USB stick, a mail gateway, a
//! synchronised folder).
//!
//! The client writes each request as `<id>-<NN>.req.der` (`<id>`: 16 random
//! hex digits per run, `NN`: the message number) and waits for the
//! `<id>-<NN>.rsp.der` next to it; `cmp serve --spool DIR` answers every
//! `*.req.der` that has no `.rsp.der` yet. Both sides write to a hidden
//! temporary name first and rename, so the other side never reads half a
//! file. The client removes both files once it has the answer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Suffix of request files.
pub(crate) const REQUEST_SUFFIX: &str = ".req.der";
/// Suffix of response files.
pub(crate) const RESPONSE_SUFFIX: &str = ".rsp.der";

/// How often a waiting side looks at the directory again.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The request file of message `n` of run `id`.
pub(crate) fn request_path(dir: &Path, id: &str, n: usize) -> PathBuf {
    dir.join(format!("{id}-{n:02}{REQUEST_SUFFIX}"))
}

/// The response file that answers `request`.
pub(crate) fn response_path(request: &Path) -> Option<PathBuf> {
    let name = request.file_name()?.to_str()?;
    let stem = name.strip_suffix(REQUEST_SUFFIX)?;
    Some(request.with_file_name(format!("{stem}{RESPONSE_SUFFIX}")))
}

/// Write `bytes` to `path` through a hidden temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("bad spool file name {}", path.display()))?;
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename to {}: {e}", path.display()))
}

/// Request files in `dir` without a response yet, oldest name first.
pub(crate) fn unanswered(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_request = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(REQUEST_SUFFIX) && !n.starts_with('.'));
        if is_request && response_path(&path).is_some_and(|r| !r.exists()) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Wait until `path` exists (checking every [`POLL_INTERVAL`]) and read it;
/// `None` when `deadline` passes first.
pub(crate) fn wait_for(path: &Path, deadline: Instant) -> Result<Option<Vec<u8>>, String> {
    loop {
        match std::fs::read(path) {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pair_up_and_only_unanswered_requests_are_listed() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("cmp-spool-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let r1 = request_path(&dir, "ab", 1);
        let r2 = request_path(&dir, "ab", 2);
        assert_eq!(
            response_path(&r1).as_deref(),
            Some(dir.join("ab-01.rsp.der").as_path())
        );
        assert_eq!(response_path(&dir.join("x.der")), None);
        write_atomic(&r1, b"one")?;
        write_atomic(&r2, b"two")?;
        // a half-written file is hidden
        std::fs::write(dir.join(".ab-03.req.der.tmp"), b"").map_err(|e| e.to_string())?;
        assert_eq!(unanswered(&dir)?, vec![r1.clone(), r2.clone()]);
        let answer = response_path(&r1).ok_or("no response name")?;
        write_atomic(&answer, b"answer")?;
        assert_eq!(unanswered(&dir)?, vec![r2]);
        assert_eq!(wait_for(&answer, Instant::now())?, Some(b"answer".to_vec()));
        let missing = dir.join("none.rsp.der");
        let start = Instant::now();
        assert_eq!(
            wait_for(&missing, start + Duration::from_millis(120))?,
            None
        );
        assert!(start.elapsed() >= Duration::from_millis(120));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
