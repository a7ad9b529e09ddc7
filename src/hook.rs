//! Installing and removing keyscan's git hooks.
//! TODO(git helper)

use anyhow::Result;

pub struct InstallOptions {
    /// Which hook: "pre-commit" (later also "pre-push").
    pub hook: String,
    /// Replace a foreign hook instead of refusing.
    pub force: bool,
}

/// Install the hook into the repository of the current directory; returns
/// a message for the user.
pub fn install(_opts: &InstallOptions) -> Result<String> {
    anyhow::bail!("not implemented")
}

/// Remove a hook keyscan installed; returns a message for the user.
pub fn uninstall(_hook: &str) -> Result<String> {
    anyhow::bail!("not implemented")
}
