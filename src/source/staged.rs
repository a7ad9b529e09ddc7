//! The pre-commit source: what is staged in the index, never the working tree.
//! TODO(git helper)

use crate::finding::Finding;
use crate::scan::Scanner;

/// Findings in the staged changes of the repository git points us at
/// (`GIT_DIR`/`GIT_INDEX_FILE` honoured), limited to added lines.
pub fn scan_staged(_scanner: &Scanner) -> anyhow::Result<Vec<Finding>> {
    anyhow::bail!("not implemented")
}
